// The deployment files agree with cutover and with each other. Every manifest in k8s/ is valid
// against the Kubernetes schemas offline (kubernetes-models: kubectl cannot validate without a
// cluster), the config inside each ConfigMap passes cutover's own validation, and probes, ports,
// annotations and grace periods line up with that config. The Dockerfile is held to the same
// numbers. Docker and a cluster are not needed: these are static checks of the files.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget, type IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap, type IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service, type IService } from 'kubernetes-models/v1/Service';
import { ServiceMonitor, type IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { parseConfig } from '../src/config/load.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const K8S = join(ROOT, 'k8s');
const DEFAULT_SHUTDOWN_GRACE_SECONDS = 30;
const DEFAULT_SHUTDOWN_DRAIN_SECONDS = 5;
const IMAGE_CONFIG_PATH = '/etc/cutover/cutover.yaml'; // the Dockerfile's CUTOVER_CONFIG

// ---- loading -------------------------------------------------------------------------------

interface Manifest {
  file: string; // relative to the repository, e.g. k8s/standalone/deployment.yaml
  folder: string; // e.g. k8s/standalone
  obj: { apiVersion: string; kind: string; metadata?: { name?: string; labels?: Record<string, string> }; [k: string]: unknown };
}

// Every kind used in k8s/ must be here: a kind without a schema fails the test, not skips it.
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

// The same kinds as TypeScript interfaces: the schemas accept any field they do not know (as the
// API server does unless asked for strict field validation), so a misspelt field such as
// `imagePulPolicy` passes validate(). Type-checking each manifest as an object literal of its
// interface rejects it (excess property check), like `kubectl apply --validate=strict`.
const TYPES: Record<string, [module: string, iface: string]> = {
  'apps/v1/Deployment': ['kubernetes-models/apps/v1/Deployment', 'IDeployment'],
  'v1/Service': ['kubernetes-models/v1/Service', 'IService'],
  'v1/ConfigMap': ['kubernetes-models/v1/ConfigMap', 'IConfigMap'],
  'v1/Secret': ['kubernetes-models/v1/Secret', 'ISecret'],
  'policy/v1/PodDisruptionBudget': ['kubernetes-models/policy/v1/PodDisruptionBudget', 'IPodDisruptionBudget'],
  'monitoring.coreos.com/v1/ServiceMonitor': ['@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor', 'IServiceMonitor'],
};

const yamlFiles = readdirSync(K8S, { recursive: true, encoding: 'utf8' })
  .filter((f) => /\.ya?ml$/.test(f))
  .map((f) => posix.join('k8s', f.split('\\').join('/')))
  .sort();
const kustomizations = yamlFiles.filter((f) => posix.basename(f) === 'kustomization.yaml');
const manifests: Manifest[] = yamlFiles
  .filter((f) => !kustomizations.includes(f))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(ROOT, file), 'utf8')).flatMap((doc) => {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
      const obj = doc.toJS() as Manifest['obj'] | null;
      return obj === null ? [] : [{ file, folder: posix.dirname(file), obj }];
    }),
  );
const folders = kustomizations.map((f) => posix.dirname(f));
const inFolder = <T>(folder: string, kind: string) =>
  manifests.filter((m) => m.folder === folder && m.obj.kind === kind).map((m) => ({ file: m.file, obj: m.obj as unknown as T }));

// ---- what a pod runs -------------------------------------------------------------------------

interface CutoverPod {
  where: string; // "k8s/standalone/deployment.yaml (cutover)" for messages
  deployment: IDeployment;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  pod: IPodSpec;
  container: IContainer;
  /** The config as the pod reads it: the ConfigMap key mounted at CUTOVER_CONFIG. */
  config: { raw: Record<string, any>; source: string };
}

const isCutoverImage = (image = '') => posix.basename(image.split('@')[0].split(':')[0]) === 'cutover';

function configFor(folder: string, pod: IPodSpec, c: IContainer): CutoverPod['config'] {
  const path = c.env?.find((e) => e.name === 'CUTOVER_CONFIG')?.value ?? IMAGE_CONFIG_PATH;
  // A directory mount, not subPath: the kubelet only updates directory mounts after an edit.
  const mount = c.volumeMounts?.find((m) => m.mountPath === posix.dirname(path) && !m.subPath);
  if (!mount) throw new Error(`container ${c.name}: no ConfigMap directory mounted at ${posix.dirname(path)} for ${path}`);
  const cmName = pod.volumes?.find((v) => v.name === mount.name)?.configMap?.name;
  const cm = inFolder<IConfigMap>(folder, 'ConfigMap').find((m) => m.obj.metadata?.name === cmName);
  const text = cm?.obj.data?.[posix.basename(path)];
  if (!cm || text === undefined) throw new Error(`container ${c.name}: ConfigMap ${cmName} with key ${posix.basename(path)} not in ${folder}`);
  return { raw: parseYaml(text) as Record<string, any>, source: `${cm.file} (${posix.basename(path)})` };
}

function cutoverPods(folder: string): CutoverPod[] {
  return inFolder<IDeployment>(folder, 'Deployment').flatMap(({ file, obj }) => {
    const template = obj.spec!.template;
    const pod = template.spec!;
    return pod.containers
      .filter((c) => isCutoverImage(c.image))
      .map((container) => ({
        where: `${file} (${container.name})`,
        deployment: obj,
        labels: template.metadata?.labels ?? {},
        annotations: template.metadata?.annotations ?? {},
        pod,
        container,
        config: configFor(folder, pod, container),
      }));
  });
}

/** A numeric port, or a named one looked up among the containers' ports. */
function resolvePort(port: number | string | undefined, containers: IContainer[]): number | undefined {
  if (typeof port === 'number') return port;
  for (const c of containers) for (const p of c.ports ?? []) if (p.name === port) return p.containerPort;
  return undefined;
}

/** Seconds the preStop hook pauses: exec sleep N, sh -c "sleep N", or the native sleep action. */
function preStopSeconds(c: IContainer): number {
  const hook = c.lifecycle?.preStop;
  if (hook?.sleep) return hook.sleep.seconds;
  const cmd = hook?.exec?.command ?? [];
  if (posix.basename(cmd[0] ?? '') === 'sleep') return Number(cmd[1]);
  const shell = /^sleep (\d+)$/.exec(cmd.at(-1)?.trim() ?? '');
  return shell ? Number(shell[1]) : 0;
}

const selects = (selector: Record<string, string> | undefined, labels: Record<string, string>) =>
  selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

const ports = (raw: Record<string, any>) => ({ listen: raw.listen?.port as number, admin: raw.admin?.port as number });

// ---- the manifests ---------------------------------------------------------------------------

describe('k8s manifests', () => {
  it('has the standalone and sidecar kustomizations', () => {
    expect(folders).toEqual(expect.arrayContaining(['k8s/standalone', 'k8s/sidecar']));
  });

  it('every object is valid against the Kubernetes schemas (kubernetes-models, offline)', () => {
    const problems: string[] = [];
    for (const { file, obj } of manifests) {
      const id = `${file}: ${obj.kind ?? '(no kind)'} ${obj.metadata?.name ?? '(no name)'}`;
      if (!obj.metadata?.name) problems.push(`${id}: metadata.name is required`);
      const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
      if (!Model) {
        problems.push(`${id}: no schema for ${obj.apiVersion} ${obj.kind}; add its kubernetes-models class to MODELS`);
        continue;
      }
      try {
        new Model(obj as never).validate();
      } catch (err) {
        problems.push(`${id}: ${(err as Error).message}`);
      }
    }
    expect(problems).toEqual([]);
    expect(manifests.length).toBeGreaterThan(0);
  });

  it('no manifest has a field its kind does not know (type-checked against the kubernetes-models interfaces)', () => {
    expect(Object.keys(TYPES).sort()).toEqual(Object.keys(MODELS).sort());
    // One manifest per line, so a compiler error's line names the manifest.
    const head = Object.values(TYPES).map(([mod, iface]) => `import type { ${iface} } from '${mod}';`);
    const body = manifests.map((m, i) => `export const m${i}: ${TYPES[`${m.obj.apiVersion}/${m.obj.kind}`][1]} = ${JSON.stringify(m.obj)};`);
    const dir = join(ROOT, 'node_modules', '.cache', 'k8s-manifest-types'); // resolves kubernetes-models from here
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'manifests.ts'), [...head, ...body, ''].join('\n'));
    const compilerOptions = { noEmit: true, strict: true, skipLibCheck: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', types: [] };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['manifests.ts'] }));
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const run = spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
    const problems = `${run.stdout}${run.stderr}`
      .split('\n')
      .filter((l) => /error TS/.test(l))
      .map((l) => {
        const line = Number(/\((\d+),\d+\)/.exec(l)?.[1] ?? 0);
        const m = manifests[line - head.length - 1];
        return `${m ? `${m.file}: ${m.obj.kind} ${m.obj.metadata?.name}` : 'manifests.ts'}: ${l.replace(/^.*?error /, '')}`;
      });
    expect(problems).toEqual([]);
    expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
  });

  it('every kustomization lists files that exist, and every manifest in its folder', () => {
    for (const k of kustomizations) {
      const folder = posix.dirname(k);
      const kust = parseYaml(readFileSync(join(ROOT, k), 'utf8')) as { kind: string; resources?: string[] };
      expect(kust.kind, k).toBe('Kustomization');
      const listed = (kust.resources ?? []).map((r) => posix.join(folder, r));
      for (const f of listed) expect(existsSync(join(ROOT, f)), `${k} lists ${f}`).toBe(true);
      const present = yamlFiles.filter((f) => posix.dirname(f) === folder && f !== k);
      expect([...listed].sort(), k).toEqual(present);
    }
  });

  // `kubectl apply -k` builds the kustomization first; kubectl can do that without a cluster.
  const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!hasKubectl)('every kustomization builds with kubectl kustomize, the image renamed', () => {
    for (const folder of folders) {
      const out = execFileSync('kubectl', ['kustomize', join(ROOT, folder)], { encoding: 'utf8' });
      const built = parseAllDocuments(out).map((d) => d.toJS() as Manifest['obj']);
      const names = (list: Manifest['obj'][]) => list.map((o) => `${o.kind}/${o.metadata?.name}`).sort();
      expect(names(built), folder).toEqual(names(manifests.filter((m) => m.folder === folder).map((m) => m.obj)));
      expect(out, folder).not.toMatch(/image: cutover\s*$/m); // the images: entry replaced the local name
    }
  });

  it('every Deployment selects its own pods; cutover rolls out without losing capacity, the fleet Redis never runs twice', () => {
    for (const { file, obj } of manifests.filter((m) => m.obj.kind === 'Deployment')) {
      const d = obj as unknown as IDeployment;
      expect(selects(d.spec!.selector.matchLabels, d.spec!.template.metadata?.labels ?? {}), file).toBe(true);
      if (d.spec!.template.spec!.containers.some((c) => isCutoverImage(c.image))) {
        expect(d.spec!.strategy?.type, file).toBe('RollingUpdate');
        expect(d.spec!.strategy?.rollingUpdate?.maxUnavailable, file).toBe(0);
      } else {
        // A single Redis without shared storage: a second one during a rollout would split the state.
        expect(d.spec!.replicas, file).toBe(1);
        expect(d.spec!.strategy?.type, file).toBe('Recreate');
      }
    }
  });

  it.each(['k8s/standalone', 'k8s/sidecar'])('%s runs in fleet mode: state in the Redis it deploys, one admin Service for every pod, pods named', (folder) => {
    const [pod] = cutoverPods(folder);
    const url = new URL(pod.config.raw.state?.redis?.url as string);
    const redis = inFolder<IService>(folder, 'Service').find((s) => s.obj.metadata?.name === url.hostname);
    expect(redis, `${folder}: a Service named ${url.hostname}`).toBeDefined();
    expect(redis!.obj.spec?.ports?.map((p) => p.port)).toContain(Number(url.port));
    const admin = inFolder<IService>(folder, 'Service').find((s) => s.obj.metadata?.name === 'cutover-admin');
    expect(admin?.obj.spec?.ports?.map((p) => resolvePort(p.targetPort, pod.pod.containers))).toEqual([ports(pod.config.raw).admin]);
    const id = pod.container.env?.find((e) => e.name === 'CUTOVER_REPLICA_ID');
    expect(id?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
  });

  describe.each(folders)('%s', (folder) => {
    // A wiring error is this test's failure; the others then have no pod to look at.
    let pods: CutoverPod[] = [];
    let wiring: string | undefined;
    try {
      pods = cutoverPods(folder);
    } catch (err) {
      wiring = (err as Error).message;
    }

    it('runs cutover in a Deployment that reads its config from a ConfigMap directory mount', () => {
      expect(wiring).toBeUndefined();
      expect(pods.length).toBeGreaterThan(0);
    });

    it("the config in the ConfigMap passes cutover's own validation", () => {
      for (const { config } of pods) expect(() => parseConfig(config.raw, config.source)).not.toThrow();
    });

    it('probes /healthz and /readyz on admin.port, and exposes listen.port and admin.port', () => {
      for (const { where, container, config } of pods) {
        const { listen, admin } = ports(config.raw);
        expect(typeof listen === 'number' && typeof admin === 'number', `${config.source}: listen.port and admin.port set`).toBe(true);
        expect(container.livenessProbe?.httpGet?.path, where).toBe('/healthz');
        expect(container.readinessProbe?.httpGet?.path, where).toBe('/readyz');
        expect(resolvePort(container.livenessProbe?.httpGet?.port, [container]), where).toBe(admin);
        expect(resolvePort(container.readinessProbe?.httpGet?.port, [container]), where).toBe(admin);
        expect(container.ports?.map((p) => p.containerPort), where).toEqual(expect.arrayContaining([listen, admin]));
        // The kubelet probes the pod IP, and Services route to it: loopback would be unreachable.
        expect([config.raw.listen?.host, config.raw.admin?.host], config.source).toEqual(['0.0.0.0', '0.0.0.0']);
      }
    });

    it("Services selecting the pods target cutover's ports only, the proxy port among them", () => {
      const services = inFolder<IService>(folder, 'Service');
      for (const { where, labels, pod, config } of pods) {
        const { listen, admin } = ports(config.raw);
        const targets = services
          .filter((s) => selects(s.obj.spec?.selector, labels))
          .flatMap((s) => (s.obj.spec?.ports ?? []).map((p) => resolvePort(p.targetPort ?? p.port, pod.containers)));
        expect(targets, where).toContain(listen);
        // Anything else would let clients bypass cutover (in the sidecar: reach the app directly).
        for (const t of targets) expect([listen, admin], where).toContain(t);
      }
    });

    it('Prometheus scrapes admin.port /metrics through the annotations and any ServiceMonitor', () => {
      for (const { where, annotations, config } of pods) {
        expect(annotations['prometheus.io/scrape'], where).toBe('true');
        expect(annotations['prometheus.io/port'], where).toBe(String(ports(config.raw).admin));
        expect(annotations['prometheus.io/path'] ?? '/metrics', where).toBe('/metrics');
      }
      const services = inFolder<IService>(folder, 'Service');
      for (const { file, obj: sm } of inFolder<IServiceMonitor>(folder, 'ServiceMonitor')) {
        const matched = services.filter((s) => selects(sm.spec.selector.matchLabels, s.obj.metadata?.labels ?? {}));
        expect(matched.length, `${file}: selects a Service`).toBeGreaterThan(0);
        for (const ep of sm.spec.endpoints ?? []) {
          expect(ep.path ?? '/metrics', file).toBe('/metrics');
          for (const s of matched) {
            const sp = s.obj.spec?.ports?.find((p) => p.name === ep.port);
            expect(sp, `${file}: ${s.file} has a port named ${ep.port}`).toBeDefined();
            const pod = pods.find((p) => selects(s.obj.spec?.selector, p.labels))!;
            expect(resolvePort(sp!.targetPort ?? sp!.port, pod.pod.containers), file).toBe(ports(pod.config.raw).admin);
          }
        }
      }
    });

    it('the pod outlives the drain: terminationGracePeriodSeconds > preStop + shutdownDrainSeconds + shutdownGraceSeconds', () => {
      for (const { where, pod, container, config } of pods) {
        const pause = preStopSeconds(container);
        const drain = config.raw.shutdownDrainSeconds ?? DEFAULT_SHUTDOWN_DRAIN_SECONDS;
        const grace = config.raw.shutdownGraceSeconds ?? DEFAULT_SHUTDOWN_GRACE_SECONDS;
        expect(pause, `${where}: a preStop pause while endpoints update`).toBeGreaterThan(0);
        expect(drain, `${config.source}: a drain period, so clients move away before the listener closes`).toBeGreaterThan(0);
        expect(pod.terminationGracePeriodSeconds ?? 30, where).toBeGreaterThan(pause + drain + grace);
        // A container next to cutover gets SIGTERM once cutover has stopped accepting (after its
        // preStop and drain period): what cutover still forwards is served.
        for (const other of pod.containers.filter((c) => c !== container)) {
          expect(preStopSeconds(other), `${where}: preStop of ${other.name}`).toBeGreaterThan(pause + drain);
        }
      }
    });

    it('the admin token comes from a Secret, since admin listens on a non-loopback address', () => {
      for (const { where, container, config } of pods) {
        const env = container.env?.find((e) => e.name === 'CUTOVER_ADMIN_TOKEN');
        const fromSecret = Boolean(env?.valueFrom?.secretKeyRef?.name && env.valueFrom.secretKeyRef.key);
        expect(fromSecret || config.raw.admin?.tokenFile !== undefined, where).toBe(true);
        expect(env?.value, `${where}: no literal token in the manifest`).toBeUndefined();
      }
    });

    it('containers run locked down and with resources set', () => {
      for (const { where, pod, container } of pods) {
        expect(container.securityContext?.runAsUser ?? pod.securityContext?.runAsUser, where).toBe(dockerUid());
        for (const c of pod.containers) {
          const sc = c.securityContext ?? {};
          const at = `${where}: container ${c.name}`;
          expect(sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot, at).toBe(true);
          expect(sc.allowPrivilegeEscalation, at).toBe(false);
          expect(sc.readOnlyRootFilesystem, at).toBe(true);
          expect(sc.capabilities?.drop, at).toContain('ALL');
          expect(sc.capabilities?.add ?? [], at).toEqual([]);
          expect(sc.privileged ?? false, at).toBe(false);
          expect((sc.seccompProfile ?? pod.securityContext?.seccompProfile)?.type, at).toBe('RuntimeDefault');
          expect(Object.keys(c.resources?.requests ?? {}).sort(), at).toEqual(['cpu', 'memory']);
          expect(c.resources?.limits?.memory, at).toBeDefined();
        }
      }
    });

    it('the state file is on a volume (the root filesystem is read-only)', () => {
      for (const { where, container, config } of pods) {
        const file = config.raw.state?.file as string | undefined;
        expect(file, `${config.source}: state.file`).toMatch(/^\//);
        const mounted = container.volumeMounts?.some((m) => !m.readOnly && file!.startsWith(`${m.mountPath.replace(/\/$/, '')}/`));
        expect(mounted, where).toBe(true);
      }
    });

    // A ClusterIP Service is one node to cutover; a headless one is every pod, each ejected on its own.
    it('each discovered upstream is a headless Service of the folder, on a port it serves', () => {
      const services = inFolder<IService>(folder, 'Service');
      let discovered = 0;
      for (const { config } of pods) {
        for (const [name, b] of Object.entries<any>(config.raw.backends ?? {})) {
          if (!b.discovery) continue;
          for (const u of b.upstreams as string[]) {
            discovered++;
            const url = new URL(u);
            const svc = services.find((s) => s.obj.metadata?.name === url.hostname.split('.')[0]);
            expect(svc, `${config.source}: backends.${name} upstream ${u} names a Service in ${folder}`).toBeDefined();
            expect(svc!.obj.spec?.clusterIP, `${svc!.file}: headless`).toBe('None');
            expect(svc!.obj.spec?.ports?.map((p) => p.targetPort ?? p.port), `${svc!.file}: the upstream's port`).toContain(Number(url.port));
          }
        }
      }
      expect(discovered, `${folder}: discovery on for at least one backend (the recommended layout)`).toBeGreaterThan(0);
    });

    it('a PodDisruptionBudget, if any, covers the pods and still lets a node drain', () => {
      for (const { file, obj } of inFolder<IPodDisruptionBudget>(folder, 'PodDisruptionBudget')) {
        const pod = pods.find((p) => selects(obj.spec?.selector?.matchLabels, p.labels));
        expect(pod, `${file}: selects the cutover pods`).toBeDefined();
        expect(Number(obj.spec?.minAvailable), file).toBeLessThan(pod!.deployment.spec!.replicas ?? 1);
      }
    });
  });

  it('standalone: two replicas, a PodDisruptionBudget, cutover-admin Service and a ServiceMonitor', () => {
    const [pod] = cutoverPods('k8s/standalone');
    expect(pod.deployment.spec?.replicas).toBe(2);
    expect(inFolder(`k8s/standalone`, 'PodDisruptionBudget')).toHaveLength(1);
    expect(inFolder(`k8s/standalone`, 'ServiceMonitor')).toHaveLength(1);
    const admin = inFolder<IService>('k8s/standalone', 'Service').find((s) => s.obj.metadata?.name === 'cutover-admin');
    expect(admin?.obj.spec?.ports?.map((p) => resolvePort(p.targetPort, pod.pod.containers))).toEqual([ports(pod.config.raw).admin]);
  });
});

// ---- the Dockerfile --------------------------------------------------------------------------

interface Instruction {
  op: string;
  args: string;
}

/** Instructions with continuation lines joined and comments dropped. */
function dockerfile(): Instruction[] {
  const out: Instruction[] = [];
  let buf = '';
  for (const line of readFileSync(join(ROOT, 'Dockerfile'), 'utf8').split('\n')) {
    if (/^\s*#/.test(line)) continue;
    if (/\\\s*$/.test(line)) {
      buf += `${line.replace(/\\\s*$/, '')} `;
      continue;
    }
    buf += line;
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(buf);
    if (m) out.push({ op: m[1].toUpperCase(), args: m[2].trim() });
    buf = '';
  }
  return out;
}

/** The instructions of the last (runtime) stage. */
function runtimeStage(): Instruction[] {
  const all = dockerfile();
  const last = all.map((i) => i.op).lastIndexOf('FROM');
  return all.slice(last);
}

function dockerUid(): number {
  const user = runtimeStage().filter((i) => i.op === 'USER').at(-1)?.args ?? '';
  return Number(user.split(':')[0]); // NaN for a name: runAsNonRoot needs a number to check
}

const stateDirs = () => folders.flatMap((f) => cutoverPods(f).map((p) => posix.dirname(p.config.raw.state?.file ?? '')));

describe('Dockerfile', () => {
  it('builds in one stage and runs in another, on a maintained Node LTS slim image', () => {
    const all = dockerfile();
    const args = Object.fromEntries(
      all.filter((i) => i.op === 'ARG').map((i) => i.args.split('=') as [string, string]),
    );
    const froms = all.filter((i) => i.op === 'FROM').map((i) => i.args.split(/\s+/)[0].replace(/\$\{?(\w+)\}?/g, (_, n) => args[n] ?? ''));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const image of froms) {
      const major = Number(/^node:(\d+)/.exec(image)?.[1]);
      expect(major >= 22 && major % 2 === 0 && image.includes('-slim'), image).toBe(true); // Node 20 is end-of-life
    }
    const runtime = runtimeStage();
    expect(runtime.some((i) => i.op === 'RUN' && /npm ci\b.*--omit=dev/.test(i.args))).toBe(true);
    expect(runtime.some((i) => i.op === 'COPY' && /--from=\S+\s+\S*dist/.test(i.args))).toBe(true);
  });

  it('runs as a numeric non-root user, the one the manifests run as', () => {
    const uid = dockerUid();
    expect(Number.isInteger(uid) && uid > 0).toBe(true);
    for (const f of folders) for (const p of cutoverPods(f)) expect(p.container.securityContext?.runAsUser ?? p.pod.securityContext?.runAsUser).toBe(uid);
  });

  it('exposes the ports the manifests use and health-checks /healthz without curl', () => {
    const runtime = runtimeStage();
    const exposed = runtime.filter((i) => i.op === 'EXPOSE').flatMap((i) => i.args.split(/\s+/).map((p) => Number(p.split('/')[0])));
    const check = runtime.find((i) => i.op === 'HEALTHCHECK')?.args ?? '';
    for (const f of folders) {
      for (const { config } of cutoverPods(f)) {
        const { listen, admin } = ports(config.raw);
        expect(exposed).toEqual(expect.arrayContaining([listen, admin]));
        expect(check).toContain(`http://127.0.0.1:${admin}/healthz`);
      }
    }
    expect(check).toMatch(/"node",\s*"-e"/);
    expect(check).not.toMatch(/curl|wget/);
  });

  it('reads its config from CUTOVER_CONFIG and keeps state on a volume', () => {
    const runtime = runtimeStage();
    const env = runtime.filter((i) => i.op === 'ENV').map((i) => i.args).join(' ');
    expect(env).toMatch(new RegExp(`CUTOVER_CONFIG=${IMAGE_CONFIG_PATH}(\\s|$)`));
    const volumes = runtime.filter((i) => i.op === 'VOLUME').flatMap((i) => (i.args.startsWith('[') ? JSON.parse(i.args) : i.args.split(/\s+/)));
    for (const dir of stateDirs()) expect(volumes).toContain(dir);
  });

  it('starts node directly (exec form), so SIGTERM reaches cutover and not a shell', () => {
    const cmd = runtimeStage().find((i) => i.op === 'CMD')?.args ?? '';
    expect(JSON.parse(cmd)).toEqual(['node', 'dist/cli.js', 'start']);
  });

  it('.dockerignore keeps node_modules, tests and bench results out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim().replace(/^\/|\/$/g, ''))
      .filter((l) => l && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'test', 'bench/results', 'dist', '.git']));
  });
});
