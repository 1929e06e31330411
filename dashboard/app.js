// The cutover dashboard. Plain browser JavaScript, no build step, no inline script (the page's CSP
// forbids it). Live data comes from GET api/v1/events (Server-Sent Events) read with fetch and a
// ReadableStream, because EventSource cannot send the bearer header; it reconnects with backoff.
// Every array the page keeps is bounded: 10 minutes of points, 200 history entries.
'use strict';
(() => {
  const TOKEN_KEY = 'cutover.adminToken';
  const SERIES_SECONDS = 600;
  const HISTORY_KEPT = 200;
  const COLORS = { legacy: '#1f5fa8', candidate: '#c2410c' };

  const $ = (id) => document.getElementById(id);
  /** replaceChildren without the null/false placeholders of optional parts. */
  const fill = (el, ...children) => el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false && c !== ''));
  /** Build an element; children are nodes or text (never parsed as HTML). */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs ?? {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
    return el;
  }
  const pct = (x) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(x !== 0 && Math.abs(x) < 0.001 ? 3 : 2)} %`);
  const ms = (x) => (x === null || x === undefined ? '–' : `${x.toFixed(x < 10 ? 2 : 1)} ms`);
  /** A time in the viewer's zone, with the UTC time on hover. */
  function when(iso) {
    const d = new Date(iso);
    return h('time', { datetime: d.toISOString(), title: `UTC ${d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')}` }, d.toLocaleString());
  }
  const seconds = (s) => (s === null || s === undefined ? '–' : s >= 120 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${Math.round(s)} s`);

  // ---------------------------------------------------------------- state
  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    access: null,
    routes: [],
    history: [],
    status: null,
    summary: null,
    /** route → { t: [], legacy: {...arrays}, candidate: {...arrays} } */
    series: new Map(),
    charts: new Map(),
    cards: new Map(),
    backoffMs: 1000,
    controller: null,
    lastEventAt: 0,
  };

  // ---------------------------------------------------------------- the event stream
  async function connect() {
    state.controller?.abort();
    const controller = new AbortController();
    state.controller = controller;
    setConn('wait', 'connecting…');
    let res;
    try {
      res = await fetch('api/v1/events', { headers: authHeaders(), cache: 'no-store', signal: controller.signal });
    } catch {
      return retry(controller);
    }
    if (res.status === 401) {
      setConn('bad', 'token needed');
      showLogin(state.token ? 'that token was refused' : '');
      return;
    }
    if (!res.ok || !res.body) {
      setConn('bad', `error ${res.status}`);
      return retry(controller);
    }
    $('login').hidden = true;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let i;
        while ((i = buffer.indexOf('\n\n')) !== -1) {
          const raw = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          dispatch(raw);
        }
        // A frame that never ends would grow the buffer without bound: drop the connection.
        if (buffer.length > 4 << 20) break;
      }
    } catch {
      // the connection dropped (cutover restarted, the network went away): reconnect below
    }
    retry(controller);
  }

  function retry(controller) {
    if (state.controller !== controller || controller.signal.aborted) return;
    const wait = Math.min(state.backoffMs, 10000) * (0.8 + 0.4 * Math.random());
    state.backoffMs = Math.min(state.backoffMs * 2, 10000);
    setConn('bad', `disconnected: reconnecting in ${Math.ceil(wait / 1000)} s`);
    setTimeout(() => {
      if (state.controller === controller) void connect();
    }, wait);
  }

  /** One SSE frame (WHATWG HTML 9.2.6): "event:" and "data:" lines. */
  function dispatch(raw) {
    let event = 'message';
    const data = [];
    for (const line of raw.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length === 0) return;
    let body;
    try {
      body = JSON.parse(data.join('\n'));
    } catch {
      return;
    }
    state.lastEventAt = Date.now();
    if (event === 'hello') onHello(body);
    else if (event === 'status') onStatus(body);
    else if (event === 'change') onChange(body);
  }

  function setConn(kind, text) {
    const el = $('conn');
    el.className = `badge state-${kind}`;
    el.textContent = text;
  }

  // ---------------------------------------------------------------- events
  function onHello(hello) {
    state.backoffMs = 1000;
    setConn('ok', 'live');
    state.access = hello.access;
    state.routes = hello.routes;
    state.history = hello.history.slice(0, HISTORY_KEPT);
    state.summary = hello.summary;
    const access = $('access');
    access.textContent =
      hello.access === 'admin' ? 'access: admin (may act)' : hello.access === 'read-only' ? 'access: read-only (actions hidden)' : 'access: unauthenticated';
    access.className = `badge access-${hello.access}`;
    const notice = $('notice');
    notice.hidden = hello.access !== 'unauthenticated';
    notice.textContent =
      'Unauthenticated: no admin token is configured, so the admin listener accepts only loopback connections, and anyone on this machine can change traffic. Set CUTOVER_ADMIN_TOKEN (and admin.readOnlyTokenFile for viewers) to require a token.';
    document.body.classList.toggle('read-only', hello.access === 'read-only');
    // A new process (a restart) starts its series afresh: take the server's ring as the truth.
    state.series.clear();
    for (const p of hello.points) addPoint(p);
    buildRoutes();
    renderHistory();
    renderSummary();
  }

  function onStatus(s) {
    state.status = s;
    if (s.summary) state.summary = s.summary;
    if (s.point) addPoint(s.point);
    $('updated').textContent = `updated ${new Date(s.time).toLocaleTimeString()}`;
    $('updated').title = `UTC ${s.time}`;
    render();
  }

  function onChange(c) {
    state.history.unshift(c);
    if (state.history.length > HISTORY_KEPT) state.history.length = HISTORY_KEPT;
    // A split shows at once, before the next snapshot.
    if (c.kind === 'split' && state.status) {
      for (const r of state.status.routes) if (c.route === undefined || r.name === c.route) r.candidatePercent = c.to;
      render();
    }
    if (c.kind === 'maintenance' && state.status) {
      state.status.maintenance = { ...state.status.maintenance, enabled: c.to };
      render();
    }
    renderHistory();
  }

  // ---------------------------------------------------------------- series (bounded)
  function seriesOf(route) {
    let s = state.series.get(route);
    if (!s) {
      const side = () => ({ rps: [], err: [], p50: [], p90: [], p99: [] });
      s = { t: [], legacy: side(), candidate: side() };
      state.series.set(route, s);
    }
    return s;
  }

  function addPoint(p) {
    const t = p.t / 1000;
    for (const [route, v] of Object.entries(p.routes)) {
      const s = seriesOf(route);
      if (s.t.length > 0 && s.t[s.t.length - 1] >= t) continue;
      s.t.push(t);
      for (const b of ['legacy', 'candidate']) {
        const x = v[b];
        s[b].rps.push(x.rps);
        s[b].err.push(100 * x.errorRate);
        s[b].p50.push(x.p50);
        s[b].p90.push(x.p90);
        s[b].p99.push(x.p99);
      }
      const cutoff = t - SERIES_SECONDS;
      while (s.t.length > 0 && (s.t[0] < cutoff || s.t.length > SERIES_SECONDS + 5)) {
        s.t.shift();
        for (const b of ['legacy', 'candidate']) for (const k of Object.keys(s[b])) s[b][k].shift();
      }
    }
  }

  // ---------------------------------------------------------------- routes
  function buildRoutes() {
    for (const c of state.charts.values()) for (const u of c) u.destroy();
    state.charts.clear();
    state.cards.clear();
    const box = $('routes');
    box.replaceChildren();
    for (const r of state.routes) {
      const card = routeCard(r);
      box.append(card.el);
      // Charts after the card is in the page: they size themselves to its width.
      state.charts.set(r.name, [
        chart(card.charts, 'requests / s', (s) => [s.legacy.rps, s.candidate.rps], 'req/s'),
        chart(card.charts, 'error rate (%)', (s) => [s.legacy.err, s.candidate.err], '%'),
        latencyChart(card.charts),
      ]);
      state.cards.set(r.name, card);
    }
    render();
  }

  function routeCard(r) {
    const el = h('section', { class: 'card route', 'data-route': r.name });
    const split = h('p', { class: 'split', 'data-split': '' });
    const bar = h('progress', { max: 100, value: 0, class: 'splitbar', 'aria-label': `candidate share of ${r.name}` });
    const ramp = h('div', { class: 'ramp' });
    const guard = h('div', { class: 'guard' });
    const errors = h('p', { class: 'errors hint' });
    const percentInput = h('input', { type: 'number', min: 0, max: 100, step: 'any', 'aria-label': `candidate percent for ${r.name}`, class: 'percent', 'data-write': '' });
    const actions = h(
      'div',
      { class: 'actions', 'data-write': '' },
      h('label', {}, 'candidate % ', percentInput),
      h('button', { 'data-action': 'set', onclick: () => setPercent(r.name, percentInput) }, 'Set split…'),
      r.ramp
        ? [
            h('button', { 'data-action': 'start', onclick: () => rampCommand(r.name, 'start') }, 'Start ramp…'),
            h('button', { 'data-action': 'pause', onclick: () => rampCommand(r.name, 'pause') }, 'Pause ramp'),
            h('button', { 'data-action': 'resume', onclick: () => rampCommand(r.name, 'resume') }, 'Resume ramp'),
            h('button', { 'data-action': 'promote', onclick: () => rampCommand(r.name, 'promote') }, 'Promote to next step…'),
            h('button', { 'data-action': 'abort', class: 'danger', onclick: () => rampCommand(r.name, 'abort') }, 'Abort ramp…'),
          ]
        : null,
      h('button', { 'data-action': 'rearm', onclick: () => rearm(r.name) }, 'Re-arm guard…'),
    );
    const charts = h('div', { class: 'charts' });
    el.append(h('h2', {}, `route ${r.name} `, h('span', { class: 'sub' }, matchWords(r.match))), split, bar, actions, h('div', { class: 'grid2' }, ramp, guard), charts, errors);
    return { el, split, bar, ramp, guard, errors, percentInput, actions, charts };
  }

  const matchWords = (m) => [m?.pathPrefix ? `path ${m.pathPrefix}*` : null, m?.methods ? m.methods.join('/') : null].filter(Boolean).join(' · ');

  function chartWidth(box) {
    return Math.max(200, Math.min(box.clientWidth || 300, 640));
  }

  function chart(box, title, pick, unit) {
    const holder = h('figure', { class: 'chart' }, h('figcaption', {}, title));
    box.append(holder);
    const opts = {
      width: chartWidth(holder),
      height: 160,
      legend: { live: false },
      scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(max, unit === '%' ? 1 : 1)] } },
      axes: [{}, { size: 50 }],
      series: [
        {},
        { label: 'legacy', stroke: COLORS.legacy, width: 2 },
        { label: 'candidate (dashed)', stroke: COLORS.candidate, width: 2, dash: [6, 3] },
      ],
    };
    const u = new uPlot(opts, [[], [], []], holder);
    u._pick = (s) => [s.t, ...pick(s)];
    u._holder = holder;
    return u;
  }

  function latencyChart(box) {
    const holder = h(
      'figure',
      { class: 'chart' },
      h('figcaption', {}, 'latency p50 / p90 / p99 (ms, log scale)'),
      h('p', { class: 'key' }, h('span', { class: 'key-legacy' }, '━ legacy'), ' ', h('span', { class: 'key-candidate' }, '╍ candidate'), ' · thin p50, medium p90, thick p99'),
    );
    box.append(holder);
    const line = (side, q, width) => ({ label: `${side} ${q}`, stroke: COLORS[side], width, dash: side === 'candidate' ? [6, 3] : undefined, spanGaps: true });
    const opts = {
      width: chartWidth(holder),
      height: 200,
      legend: { show: false },
      scales: { x: { time: true }, y: { distr: 3, log: 10 } },
      axes: [{}, { size: 50 }],
      series: [{}, line('legacy', 'p50', 1), line('legacy', 'p90', 1.5), line('legacy', 'p99', 2.5), line('candidate', 'p50', 1), line('candidate', 'p90', 1.5), line('candidate', 'p99', 2.5)],
    };
    const u = new uPlot(opts, [[], [], [], [], [], [], []], holder);
    u._pick = (s) => [s.t, s.legacy.p50, s.legacy.p90, s.legacy.p99, s.candidate.p50, s.candidate.p90, s.candidate.p99];
    u._holder = holder;
    return u;
  }

  window.addEventListener('resize', () => {
    for (const plots of state.charts.values()) for (const u of plots) u.setSize({ width: chartWidth(u._holder), height: u.height });
  });

  // ---------------------------------------------------------------- rendering
  function render() {
    const s = state.status;
    if (!s) return;
    $('global').hidden = false;
    fill($('maintenance-state'), 
      h('span', { class: `word ${s.maintenance.enabled ? 'state-bad' : 'state-ok'}` }, s.maintenance.enabled ? 'MAINTENANCE ON' : 'serving'),
      s.maintenance.enabled ? ` every request gets 503 "${s.maintenance.message}"` : ' (maintenance off)',
      s.persistence.store ? ` · state kept in ${s.persistence.store}${s.persistence.persisted ? '' : `: NOT SAVED (${s.persistence.lastError ?? 'pending'})`}` : ' · state in memory only (no state file)',
    );
    $('maint-on').hidden = s.maintenance.enabled;
    $('maint-off').hidden = !s.maintenance.enabled;
    for (const r of s.routes) {
      const card = state.cards.get(r.name);
      if (!card) continue;
      const p = r.candidatePercent;
      fill(card.split, h('b', {}, `candidate ${fmtPercent(p)}`), ` · legacy ${fmtPercent(100 - p)}`, r.latch ? h('span', { class: 'word state-bad' }, ' · guard latched: reverted') : null);
      card.split.setAttribute('data-percent', String(p));
      card.bar.value = p;
      if (document.activeElement !== card.percentInput && card.percentInput.value === '') card.percentInput.placeholder = String(p);
      const rv = s.ramp?.routes?.[r.name];
      renderRamp(card, rv);
      // Offer what applies now: pause a running ramp, resume a paused one, re-arm a latched guard.
      const show = { start: rv !== undefined && rv.state !== 'running' && rv.state !== 'paused', pause: rv?.state === 'running', resume: rv?.state === 'paused', promote: rv?.state === 'running' || rv?.state === 'paused', abort: rv?.state === 'running' || rv?.state === 'paused', rearm: r.latch !== null };
      for (const b of card.actions.querySelectorAll('[data-action]')) {
        const a = b.getAttribute('data-action');
        if (a in show) b.hidden = !show[a];
      }
      renderGuard(card, s.guard?.routes?.[r.name], s.guard);
      renderErrors(card, r);
      const series = state.series.get(r.name);
      if (series) for (const u of state.charts.get(r.name) ?? []) u.setData(u._pick(series));
    }
    renderNodes(s.nodes);
    renderFleet(s.fleet, s.workers);
    renderSummary();
  }

  const fmtPercent = (p) => `${Number.isInteger(p) ? p : p.toFixed(2)} %`;

  function renderRamp(card, v) {
    if (!v) {
      fill(card.ramp, h('h3', {}, 'Ramp'), h('p', { class: 'hint' }, 'No ramp configured for this route: the split moves only when set.'));
      return;
    }
    const words = {
      'not-started': 'not started',
      running: 'RUNNING',
      paused: 'PAUSED',
      completed: 'COMPLETED',
      failed: 'FAILED (reverted)',
      aborted: 'ABORTED',
      superseded: 'SUPERSEDED by a manual split',
    };
    const kind = v.state === 'running' || v.state === 'completed' ? 'ok' : v.state === 'failed' || v.state === 'aborted' ? 'bad' : 'wait';
    const steps = v.steps.map((pc, i) => h('li', { class: v.step === i + 1 ? 'current' : v.step !== null && i + 1 < v.step ? 'done' : '' }, `${pc} %`, v.step === i + 1 ? ' ◀ now' : ''));
    const plan = [];
    if (v.state === 'running' || v.state === 'paused') {
      plan.push(
        h('p', {}, `Step ${v.step} of ${v.steps.length} at ${v.candidatePercent} %.`, v.nextPercent !== null ? ` Next: ${v.nextPercent} % ` : ' Last step. ',
          v.holdLeftSeconds !== null ? `after at least ${seconds(v.holdLeftSeconds)} more${v.state === 'paused' ? ' (clock stopped while paused)' : ''}` : ''),
      );
    }
    if (v.waitingFor) plan.push(h('p', {}, `Waiting for: ${v.waitingFor}.`));
    if (v.message) plan.push(h('p', { class: 'message' }, v.message));
    if (v.evidence) {
      plan.push(
        h('p', {}, `Evidence over this step: ${v.evidence.requests.candidate} candidate and ${v.evidence.requests.legacy} legacy requests.`),
        table(['rule', 'so far', 'still needed'], v.evidence.rules.map((x) => [x.rule, `${outcomeWord(x.outcome)}: ${x.message}`, x.missing ?? 'nothing: enough evidence'])),
      );
    }
    fill(card.ramp, h('h3', {}, 'Ramp ', h('span', { class: `word state-${kind}` }, words[v.state] ?? v.state)), h('ol', { class: 'steps' }, steps), ...plan);
  }

  const outcomeWord = (o) => (o === 'breach' ? 'BREACH' : o === 'healthy' ? 'healthy' : o === 'insufficient' || o === 'inconclusive' ? 'not enough evidence yet' : o);

  function renderGuard(card, g, guard) {
    if (!guard || !guard.enabled) {
      fill(card.guard, h('h3', {}, 'Guard ', h('span', { class: 'word state-wait' }, 'OFF')), h('p', { class: 'hint' }, 'The guard is disabled: nothing reverts on its own.'));
      return;
    }
    if (!g) {
      fill(card.guard, h('h3', {}, 'Guard'), h('p', { class: 'hint' }, 'No verdict yet.'));
      return;
    }
    const GUARD_WORDS = {
      reverted: 'REVERTED (latched)',
      disabled: 'OFF for this route',
      idle: 'IDLE: no candidate traffic to judge',
      healthy: 'HEALTHY',
      'insufficient-data': 'WATCHING: not enough evidence yet',
      breaching: 'BREACHING: about to revert',
      'shared-outage': 'BOTH FAILING (shared outage: not reverted)',
    };
    const word = GUARD_WORDS[g.state] ?? String(g.state).toUpperCase();
    const kind = g.state === 'reverted' || g.state === 'breaching' || g.state === 'shared-outage' ? 'bad' : g.state === 'healthy' ? 'ok' : 'wait';
    const v = g.lastVerdict;
    const rows = (v?.rules ?? []).map((x) => [
      x.rule,
      outcomeWord(x.outcome),
      String(x.n),
      x.rule.includes('P99') || x.rule.includes('p99') ? `${pct(x.observed)} slower` : pct(x.observed),
      `${pct(x.lower)} .. ${pct(x.upper)}`,
      x.rule === 'maxP99Ms' ? `${x.limit} ms (${pct(x.threshold)} may be slower)` : pct(x.threshold),
    ]);
    fill(card.guard, 
      h('h3', {}, 'Guard ', h('span', { class: `word state-${kind}` }, word), guard.dryRun ? ' (dry run: detects, does not act)' : ''),
      v ? h('p', {}, `Last verdict ${v.kind === 'breach' ? 'BREACH' : v.kind === 'healthy' ? 'healthy' : v.kind === 'insufficient-data' ? 'not enough evidence yet' : v.kind}`, v.at ? [' at ', when(v.at)] : '', `: ${v.summary ?? ''}`) : h('p', { class: 'hint' }, 'No verdict yet.'),
      rows.length ? table(['rule', 'verdict', 'n', 'observed', `bounds (${((guard.confidence ?? 0.999) * 100).toFixed(1)} %)`, 'threshold'], rows, 'rules') : null,
      g.latch ? h('p', { class: 'message' }, `Reverted since `, when(g.latch.since), `: ${g.latch.reason}. Re-arm the guard before raising the split.`) : null,
    );
  }

  function renderErrors(card, r) {
    const b = r.backends;
    if (!b) return card.errors.replaceChildren();
    const kinds = (w) => {
      const n = w.requests;
      const names = { status5xx: '5xx answers', refused: 'connections refused', reset: 'connections reset', timeout: 'timeouts', other: 'other transport errors' };
      const parts = Object.entries(w.errors).filter(([, x]) => x > 0).map(([k, x]) => `${names[k] ?? k} ${pct(x / n)}`);
      return parts.length ? parts.join(', ') : 'none';
    };
    card.errors.replaceChildren(
      `Over the last ${state.status.windowSeconds} s: legacy ${b.legacy.window.requests} requests, errors ${kinds(b.legacy.window)}; candidate ${b.candidate.window.requests} requests, errors ${kinds(b.candidate.window)}. p99 legacy ${ms(b.legacy.window.latencyMs.count ? b.legacy.window.latencyMs.p99 : null)}, candidate ${ms(b.candidate.window.latencyMs.count ? b.candidate.window.latencyMs.p99 : null)}.`,
    );
  }

  function renderNodes(nodes) {
    const body = $('nodes').tBodies[0];
    const rows = [];
    for (const [backend, list] of Object.entries(nodes ?? {})) {
      for (const n of list) {
        const ejected = n.state !== 'serving';
        rows.push(h('tr', {}, h('td', {}, backend), h('td', {}, n.origin), h('td', {}, h('span', { class: `word state-${ejected ? 'bad' : 'ok'}` }, ejected ? `EJECTED (${n.state}, ${Math.round(n.ejectedForMs / 1000)} s)` : 'serving')), h('td', {}, String(n.ejections)), h('td', {}, n.lastReason ?? '–')));
      }
    }
    body.replaceChildren(...rows);
  }

  function renderFleet(f, workers) {
    const dl = $('fleet');
    const items = [];
    const add = (k, v) => items.push(h('dt', {}, k), h('dd', {}, v));
    if (!f || f.mode === 'single') add('mode', 'single process (no fleet: state.redis not set)');
    else {
      add('mode', `${f.mode}${f.degraded ? ' · DEGRADED' : ''}`);
      for (const [k, v] of Object.entries(f)) if (k !== 'mode' && (typeof v !== 'object' || v === null)) add(k, String(v));
      if (Array.isArray(f.replicas)) add('replicas', f.replicas.map((r) => (typeof r === 'string' ? r : r.id ?? JSON.stringify(r))).join(', '));
      if (f.leader) add('leader', typeof f.leader === 'string' ? f.leader : JSON.stringify(f.leader));
    }
    if (Array.isArray(workers)) add('workers', `${workers.length} worker processes`);
    dl.replaceChildren(...items);
  }

  function renderSummary() {
    const s = state.summary;
    const box = $('answer');
    if (!s) return;
    box.hidden = false;
    const words = { met: 'MET', missed: 'MISSED', 'not enough data yet': 'NOT ENOUGH DATA YET', 'no criteria': 'NO CRITERIA SET' };
    const kind = s.answer === 'met' ? 'ok' : s.answer === 'missed' ? 'bad' : 'wait';
    const w = $('answer-word');
    w.textContent = words[s.answer] ?? s.answer;
    w.className = `word state-${kind}`;
    $('answer-why').replaceChildren(
      ...s.routes.map((r) =>
        h('li', {}, h('b', {}, `${r.name}: ${words[r.answer] ?? r.answer}`), r.deciding.length ? ` (${r.deciding.join('; ')})` : s.answer === 'no criteria' ? ' (set report.criteria, e.g. p99Ratio and maxErrorRate)' : '', `; compared with legacy: ${r.comparison}`),
      ),
    );
  }

  function renderHistory() {
    const list = $('history');
    list.replaceChildren(
      ...state.history.map((c) =>
        h('li', { 'data-kind': c.kind, 'data-source': c.source }, when(c.time), ' ', h('span', { class: 'source' }, c.source), ' ', h('b', {}, c.kind), c.route ? ` ${c.route}` : ' all routes', `: ${fmt(c.from)} → ${fmt(c.to)}`, c.event ? ` (${c.event})` : '', c.reason ? h('span', { class: 'reason' }, ` · ${c.reason}`) : ''),
      ),
    );
  }
  const fmt = (v) => (typeof v === 'number' ? `${v} %` : typeof v === 'boolean' ? (v ? 'on' : 'off') : v === null ? 'none' : String(v));

  function table(head, rows, cls) {
    const t = h('table', { class: cls }, h('thead', {}, h('tr', {}, head.map((x) => h('th', {}, x)))), h('tbody', {}, rows.map((r) => h('tr', {}, r.map((x) => h('td', {}, x))))));
    return h('div', { class: 'scroll' }, t);
  }

  // ---------------------------------------------------------------- actions
  function authHeaders() {
    return state.token ? { authorization: `Bearer ${state.token}` } : {};
  }

  /** The existing admin API, marked as the dashboard's (the history's source). */
  async function api(method, path, body) {
    const res = await fetch(path, {
      method,
      headers: { ...authHeaders(), 'content-type': 'application/json', 'x-cutover-source': 'dashboard' },
      body: JSON.stringify(body ?? {}),
      cache: 'no-store',
    });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) toast(`refused (${res.status}): ${json.error?.message ?? res.statusText}`, true);
    else toast(res.status === 202 ? `applied but NOT saved: ${json.stateError ?? ''}` : 'done', res.status === 202);
    return { status: res.status, body: json };
  }

  let toastTimer;
  function toast(text, bad) {
    const t = $('toast');
    t.textContent = text;
    t.className = `toast ${bad ? 'state-bad' : 'state-ok'}`;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (t.hidden = true), bad ? 8000 : 3000);
  }

  /** Ask before acting; resolves { ok, reason }. */
  function confirmAction(title, text, { reason = false, reasonRequired = false } = {}) {
    const dlg = $('confirm');
    $('confirm-title').textContent = title;
    $('confirm-text').textContent = text;
    const input = $('confirm-reason');
    input.value = '';
    input.required = reasonRequired;
    input.placeholder = reasonRequired ? 'required: why' : 'optional';
    $('confirm-reason-label').hidden = !reason;
    dlg.showModal();
    if (reason) input.focus();
    return new Promise((resolve) => {
      const done = (ok) => {
        if (ok && reasonRequired && input.value.trim() === '') {
          input.setCustomValidity('say why');
          input.reportValidity();
          return;
        }
        input.setCustomValidity('');
        $('confirm-ok').removeEventListener('click', onOk);
        $('confirm-cancel').removeEventListener('click', onCancel);
        dlg.removeEventListener('cancel', onCancel);
        dlg.close();
        resolve({ ok, reason: input.value.trim() || undefined });
      };
      const onOk = () => done(true);
      const onCancel = (e) => {
        e?.preventDefault?.();
        done(false);
      };
      $('confirm-ok').addEventListener('click', onOk);
      $('confirm-cancel').addEventListener('click', onCancel);
      dlg.addEventListener('cancel', onCancel);
    });
  }

  async function setPercent(route, input) {
    const p = Number(input.value);
    if (input.value === '' || !Number.isFinite(p) || p < 0 || p > 100) return toast('enter a candidate percentage from 0 to 100', true);
    const { ok, reason } = await confirmAction(`Set ${route} to ${p} % candidate?`, `Candidate gets ${p} % and legacy ${100 - p} % of route ${route}. A ramp running on this route stops (a manual split takes it over).`, { reason: true });
    if (!ok) return;
    const r = await api('PUT', 'api/v1/split', { candidatePercent: p, route, ...(reason ? { reason } : {}) });
    if (r.status < 300) input.value = '';
  }

  async function rampCommand(route, cmd) {
    const what = { start: 'Start the ramp from its first step', pause: 'Pause the ramp (the split stays where it is)', resume: 'Resume the ramp', promote: 'Promote to the next step now, without waiting for the hold', abort: 'Abort the ramp (the split goes back to legacy)' }[cmd];
    const { ok, reason } = await confirmAction(`${cmd[0].toUpperCase()}${cmd.slice(1)} ramp of ${route}?`, `${what}.`, { reason: true });
    if (ok) await api('POST', `api/v1/ramp/${cmd}`, { route, ...(reason ? { reason } : {}) });
  }

  async function rearm(route) {
    const { ok, reason } = await confirmAction(`Re-arm the guard on ${route}?`, 'The guard watches again and the split may be raised; the split itself stays where it is.', { reason: true });
    if (ok) await api('POST', 'api/v1/guard/rearm', { route, ...(reason ? { reason } : {}) });
  }

  $('rollback-all').addEventListener('click', async () => {
    const { ok, reason } = await confirmAction('Roll back every route?', 'Every route goes to 0 % candidate (all traffic to legacy) at once. Running ramps stop.', { reason: true, reasonRequired: true });
    if (ok) await api('POST', 'api/v1/rollback', { reason });
  });
  $('maint-on').addEventListener('click', async () => {
    const { ok, reason } = await confirmAction('Turn maintenance on?', 'Every request gets 503 with Retry-After until maintenance is turned off.', { reason: true });
    if (ok) await api('POST', 'api/v1/maintenance', { enabled: true, ...(reason ? { reason } : {}) });
  });
  $('maint-off').addEventListener('click', async () => {
    const { ok, reason } = await confirmAction('Turn maintenance off?', 'Requests are served again, by the current split.', { reason: true });
    if (ok) await api('POST', 'api/v1/maintenance', { enabled: false, ...(reason ? { reason } : {}) });
  });

  // ---------------------------------------------------------------- token
  function showLogin(error) {
    $('login').hidden = false;
    $('login-error').textContent = error;
    $('token').focus();
  }
  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    state.token = $('token').value.trim();
    sessionStorage.setItem(TOKEN_KEY, state.token);
    $('token').value = '';
    state.backoffMs = 1000;
    void connect();
  });

  void connect();
})();
