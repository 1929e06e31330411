// CPU pinning with taskset (util-linux), and CPU-time and memory accounting from /proc.
// The proxy under test gets a core to itself; this process (the autocannon load generator, which
// runs in-process) and the backends share another. This process pins itself with
// `taskset -a -p` (every thread it has; threads started later inherit it), the children are
// started as `taskset -c N cmd …` (taskset execs, so the PID we hold is the command's own).
// Without taskset, with --no-pin or with fewer than two usable cores nothing is pinned.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** The CPUs a process may run on, as listed in /proc/PID/status ("0-1"), or undefined. */
export function cpusAllowed(pid = 'self') {
  try {
    return /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

function parseCpuList(list) {
  const cpus = [];
  for (const part of (list ?? '').split(',').filter(Boolean)) {
    const [a, b = a] = part.split('-').map(Number);
    for (let c = a; c <= b; c++) cpus.push(c);
  }
  return cpus;
}

/** Decide and apply the pinning for this run. Returns a plain description of it. */
export function pinSelf(enabled) {
  if (!enabled) return { pinned: false, reason: 'disabled by --no-pin' };
  if (spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status !== 0) return { pinned: false, reason: 'taskset not found' };
  const allowed = parseCpuList(cpusAllowed());
  if (allowed.length < 2) return { pinned: false, reason: `only ${allowed.length} usable CPU` };
  const [loadCpu, proxyCpu] = allowed;
  const r = spawnSync('taskset', ['-a', '-p', '-c', String(loadCpu), String(process.pid)], { encoding: 'utf8' });
  if (r.status !== 0) return { pinned: false, reason: `taskset -p failed: ${r.stderr.trim()}` };
  return { pinned: true, loadCpu, proxyCpu, usableCpus: allowed };
}

/** [cmd, args] that start `cmd args` on the CPU for `role` ('load' or 'proxy'). */
export function pinned(pins, role, cmd, args) {
  if (!pins.pinned) return [cmd, args];
  return ['taskset', ['-c', String(role === 'proxy' ? pins.proxyCpu : pins.loadCpu), cmd, ...args]];
}

let clockTicks;
const ticksPerSecond = () => (clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100);

/** CPU seconds the whole machine has been busy (all cores, every process), from /proc/stat, or NaN. */
export function machineBusySeconds() {
  try {
    const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return (user + nice + system + irq + softirq + steal) / ticksPerSecond();
  } catch {
    return NaN;
  }
}

/** User + system CPU seconds a process has used so far (from /proc/PID/stat), or NaN. */
export function cpuSeconds(pid) {
  if (pid === process.pid) {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3; utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  } catch {
    return NaN;
  }
}

/**
 * Resident memory of a process from /proc/PID/status, in bytes: `rss` now and `peak` (VmHWM, the
 * kernel's high-water mark over the process's life, so no sampling can miss the top). null fields
 * when the process is gone.
 */
export function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field) => Number(new RegExp(`^${field}:\\s*(\\d+) kB`, 'm').exec(status)?.[1]) * 1024 || null;
    return { rss: kib('VmRSS'), peak: kib('VmHWM') };
  } catch {
    return { rss: null, peak: null };
  }
}

/** CPU seconds used so far by every process on the machine (and its ended children): Map pid -> { command, seconds }. */
export function allProcessesCpu() {
  const out = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime + stime, plus cutime + cstime: children that ended meanwhile count for their parent.
      const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
      out.set(Number(entry), { command, seconds: ticks / ticksPerSecond() });
    } catch {} // gone meanwhile
  }
  return out;
}

/** The `limit` processes not in `ours` that used most CPU between two allProcessesCpu() maps. */
export function busiestOthers(before, after, ours, wallSeconds, limit = 3) {
  const used = [];
  for (const [pid, { command, seconds }] of after) {
    if (ours.has(pid)) continue;
    const delta = seconds - (before.get(pid)?.seconds ?? 0);
    if (delta > 0) used.push({ pid, command, cpuPercent: Math.round((delta / wallSeconds) * 1000) / 10 });
  }
  return used
    .sort((a, b) => b.cpuPercent - a.cpuPercent)
    .slice(0, limit)
    .map((p) => ({ ...p, command: commandLine(p.pid) ?? p.command }));
}

function commandLine(pid) {
  try {
    const line = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    return line.length > 80 ? `${line.slice(0, 77)}...` : line || undefined;
  } catch {
    return undefined;
  }
}
