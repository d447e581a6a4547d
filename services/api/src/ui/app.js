// The operator's page: plain ES module, no framework, no build. Every number on it comes from
// the JSON API with the token typed in above (kept in sessionStorage: gone when the tab
// closes), so the API's own guards decide what it may show and do. DOM is built with
// textContent only: names, reasons and ids are data, never markup.

const POLL_MS = 2000;
/** The live accuracy chart's span and bucket width (GET /models/:m/quality/series). */
const SERIES_WINDOW_S = 6 * 3600;
const SERIES_STEP_S = 300;
const TOKEN_KEY = 'ct.token';
const state = {
  token: sessionStorage.getItem(TOKEN_KEY) || '',
  admin: false,
  model: decodeURIComponent(location.hash.slice(1)) || null,
  view: 'timeline',
  models: [],
  data: null,
  /** Jobs this page started or was asked about, followed with GET /jobs/:id until they end. */
  jobs: new Map(),
  /** The model's series kept by the API (live accuracy per bucket, drift per minute), read while the charts are shown. */
  series: null,
  selectedRuns: new Set(),
  charts: {},
};

const $ = (sel) => document.querySelector(sel);

/** Builds an element; strings become text nodes. */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
    else if (k in node && typeof v !== 'string') node[k] = v;
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}
const td = (content, cls) => el('td', { class: cls }, content ?? '');
const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' }) : '');
const pct = (x) => (typeof x === 'number' ? `${(x * 100).toFixed(1)}%` : '–');
const who = (by) => (by ? `${by.name}${by.role ? ` (${by.role})` : ''}` : 'system');

/** 95 % Wilson score interval of a proportion p over n rows. */
function wilson(p, n) {
  if (typeof p !== 'number' || !n) return null;
  const z = 1.959964;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return { low: Math.max(0, c - h), high: Math.min(1, c + h) };
}
const withInterval = (p, n) => {
  const ci = wilson(p, n);
  return ci ? `${pct(p)} [${pct(ci.low)}, ${pct(ci.high)}]` : pct(p);
};

class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

/** Calls the API with the token; throws ApiError with the problem's detail. */
async function api(path, { method = 'GET', json } = {}) {
  const headers = {};
  if (state.token) headers.authorization = `Bearer ${state.token}`;
  if (json !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: json === undefined ? undefined : JSON.stringify(json), cache: 'no-store' });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, (body && (body.detail || body.title)) || `${res.status} ${res.statusText}`);
  return body;
}
/** The same, but a failure is a value: one route down must not blank the whole page. */
const attempt = (path) => api(path).then((value) => ({ value }), (error) => ({ error }));

function showError(message) {
  const box = $('#error');
  box.textContent = message || '';
  box.hidden = !message;
}

// ----------------------------------------------------------------------------------------
// Token and role

async function probeRole() {
  // Only an admin may list tokens: the answer is the cheapest honest "am I admin?".
  state.admin = false;
  if (!state.token) return;
  try {
    await api('/tokens');
    state.admin = true;
  } catch {
    state.admin = false;
  }
}

function renderAuth(readsNeedToken) {
  const parts = [];
  if (readsNeedToken) parts.push(state.token ? 'This token may not read: reads need a valid token (CT_AUTH_READ=required).' : 'Reads need a token on this API (CT_AUTH_READ=required): enter one above.');
  else if (!state.token) parts.push('Read-only: no token.');
  else parts.push(state.admin ? 'Admin token: rollbacks enabled.' : 'Token without the admin role: read-only.');
  $('#auth-status').textContent = parts.join(' ');
  $('#rollback-note').textContent = state.admin ? 'As an admin you can roll back to a version that was live before.' : 'An admin token enables rolling back.';
}

// ----------------------------------------------------------------------------------------
// Data

async function refresh() {
  const list = await attempt('/models');
  if (list.error) {
    const needsToken = list.error.status === 401 || list.error.status === 403;
    renderAuth(needsToken);
    showError(needsToken ? '' : `GET /models: ${list.error.message}`);
    state.models = [];
    renderModels();
    $('#model-section').hidden = true;
    return;
  }
  renderAuth(false);
  showError('');
  state.models = list.value.models;
  if (!state.model || !state.models.some((m) => m.name === state.model)) state.model = list.value.default_model;
  renderModels();
  await loadModel(state.model);
  await followJobs();
}

async function loadModel(name) {
  const m = encodeURIComponent(name);
  const [activations, history, quality, drift, runs] = await Promise.all([
    attempt(`/models/${m}/activations?limit=100`),
    attempt(`/models/${m}/history?limit=100`),
    attempt(`/models/${m}/quality`),
    attempt(`/models/${m}/drift`),
    attempt(`/models/${m}/runs?max_results=50`),
  ]);
  state.data = { name, activations, history, quality, drift, runs };
  // The series are read only while their charts are shown: each read sums hours of tallies.
  if (state.view === 'charts') await loadSeries(name);
  renderModel();
}

/** Reads the series the API keeps: so the charts show the past, not only what happened since the page opened. */
async function loadSeries(name) {
  const m = encodeURIComponent(name);
  const [quality, drift] = await Promise.all([attempt(`/models/${m}/quality/series?window_s=${SERIES_WINDOW_S}&step_s=${SERIES_STEP_S}`), attempt(`/models/${m}/drift/history`)]);
  state.series = { name, quality, drift };
}

async function followJobs() {
  await Promise.all(
    [...state.jobs.values()]
      .filter((j) => !['completed', 'failed', 'unknown'].includes(j.state))
      .map(async (j) => {
        try {
          state.jobs.set(j.job_id, { ...(await api(`/jobs/${encodeURIComponent(j.job_id)}`)), followed: true });
        } catch (err) {
          if (err.status === 404) state.jobs.set(j.job_id, { ...j, state: 'unknown' });
        }
      }),
  );
  renderJobs();
}

// ----------------------------------------------------------------------------------------
// Rendering

function renderModels() {
  const body = $('#models tbody');
  body.replaceChildren(
    ...state.models.map((m) =>
      el(
        'tr',
        { class: m.name === state.model ? 'selected' : '', 'data-model': m.name, on: { click: () => selectModel(m.name) } },
        td(el('strong', {}, m.name)),
        td(m.state, m.state === 'ready' ? 'current' : ''),
        td(el('span', { class: 'mono' }, m.active_version ?? '–')),
        td(fmtTime(m.activated_at)),
        td(m.metrics ? withIntervalFromMetrics(m.metrics) : '–', 'num'),
        td(m.algorithm),
      ),
    ),
  );
}
function withIntervalFromMetrics(metrics) {
  const ci = metrics.accuracy_ci;
  return ci ? `${pct(metrics.accuracy)} [${pct(ci.low)}, ${pct(ci.high)}]` : pct(metrics.accuracy);
}

function selectModel(name) {
  if (name === state.model) return;
  state.model = name;
  state.selectedRuns.clear();
  history.replaceState(null, '', `#${encodeURIComponent(name)}`);
  renderModels();
  loadModel(name).catch((err) => showError(err.message));
}

function rollbackButton(version, isCurrent) {
  if (!state.admin || isCurrent) return '';
  return el('button', { type: 'button', class: 'rollback', 'data-version': version, on: { click: (ev) => rollback(version, ev.currentTarget) } }, 'Roll back to this version');
}

function renderModel() {
  const d = state.data;
  $('#model-section').hidden = false;
  $('#model-title').textContent = `Model ${d.name}`;
  const active = state.models.find((m) => m.name === d.name)?.active_version;

  // Timeline
  const periods = d.activations.value?.activations ?? [];
  const kept = new Set(periods.map((p) => p.version));
  $('#activations tbody').replaceChildren(
    ...periods.map((p) =>
      el(
        'tr',
        { 'data-version': p.version },
        td(el('span', { class: `mono ${p.current ? 'current' : ''}` }, p.version)),
        td(fmtTime(p.from)),
        td(p.to ? fmtTime(p.to) : 'now'),
        td(p.trigger ? `${p.source} (automatic: ${p.trigger.code})` : p.source),
        td(who(p.requested_by)),
        td(pct(p.accuracy), 'num'),
        td(p.trigger?.reason ?? p.reason ?? ''),
        td(rollbackButton(p.version, p.version === active)),
      ),
    ),
  );
  renderTimelineBar(periods);

  // Attempts
  const entries = d.history.value?.entries ?? [];
  $('#attempts tbody').replaceChildren(
    ...entries.map((e) =>
      el(
        'tr',
        { 'data-seq': String(e.seq), 'data-job': e.job_id ?? '' },
        td(e.seq, 'num'),
        td(fmtTime(e.created_at)),
        td(e.source),
        td(el('span', { class: 'mono' }, e.version)),
        td(e.status, e.status),
        td(withInterval(e.accuracy_new, e.eval_set?.size), 'num'),
        td(withInterval(e.accuracy_previous, e.eval_set?.size), 'num'),
        td(e.eval_set ? `${e.eval_set.size} (${e.eval_set.trusted} trusted)` : '', 'num'),
        td(e.policy?.name ?? ''),
        td(who(e.requested_by)),
        td([e.reason ?? e.message ?? '', ...(e.violations ?? []).map((v) => el('div', { class: 'rejected' }, `${v.code}: ${v.message}`))]),
        td(e.status === 'activated' && kept.has(e.version) ? rollbackButton(e.version, e.version === active) : ''),
      ),
    ),
  );

  // Quality and drift tables
  const versions = d.quality.value?.versions ?? [];
  $('#quality tbody').replaceChildren(
    ...versions.map((v) =>
      el(
        'tr',
        {},
        td(el('span', { class: `mono ${v.active ? 'current' : ''}` }, v.version)),
        td(v.predictions, 'num'),
        td(v.feedback?.n ?? 0, 'num'),
        td(pct(v.feedback?.accuracy), 'num'),
        td(v.feedback?.interval ? `[${pct(v.feedback.interval.low)}, ${pct(v.feedback.interval.high)}]` : '–', 'num'),
        td(v.feedback?.coverage !== undefined && v.feedback?.coverage !== null ? pct(v.feedback.coverage) : '–', 'num'),
      ),
    ),
  );
  if (d.quality.value?.window) $('#quality-table-note').textContent = `The table: the last ${Math.round(d.quality.value.window.seconds / 60)} min (/quality).`;
  const dr = d.drift.value;
  $('#drift-summary').textContent = d.drift.error
    ? `drift: ${d.drift.error.message}`
    : dr?.drift
      ? `${dr.version}: ${dr.drift.driftedFeatures}/${dr.drift.features} features drifted → ${dr.drift.drifted ? 'drift' : 'no drift'} (${dr.current.rows} inputs against ${dr.reference.rows} training rows)`
      : `${dr?.version ?? ''}: ${dr?.note ?? 'no drift report'}`;
  $('#drift tbody').replaceChildren(
    ...(dr?.features ?? []).map((f) =>
      el('tr', {}, td(f.feature), td(f.test), td(f.statistic?.toFixed(3) ?? '–', 'num'), td(f.pValue === null ? '–' : f.pValue.toPrecision(3), 'num'), td(f.threshold, 'num'), td(f.drifted ? 'drifted' : 'ok', f.drifted ? 'drifted' : '')),
    ),
  );

  renderRuns();
  renderJobs();
  if (state.view === 'charts') renderCharts();
}

function renderTimelineBar(periods) {
  const bar = $('#timeline-bar');
  if (periods.length === 0) return bar.replaceChildren();
  const now = Date.now();
  const start = Math.min(...periods.map((p) => Date.parse(p.from)));
  const span = Math.max(1, now - start);
  bar.replaceChildren(
    ...[...periods].reverse().map((p) => {
      const width = ((Date.parse(p.to ?? new Date(now).toISOString()) - Date.parse(p.from)) / span) * 100;
      const seg = el('span', { class: `seg-${['bootstrap', 'train', 'rollback', 'reset'].includes(p.source) ? p.source : 'other'}`, title: `${p.version}: ${p.source}, ${fmtTime(p.from)} – ${p.to ? fmtTime(p.to) : 'now'}` }, p.version);
      // CSSOM, not a style attribute: allowed under the page's CSP.
      seg.style.width = `${Math.max(width, 0.5)}%`;
      return seg;
    }),
  );
}

function renderRuns() {
  const runs = state.data.runs.value?.runs ?? [];
  const metric = (r, key) => {
    const ms = r.data.metrics.filter((m) => m.key === key);
    return ms.length ? ms[ms.length - 1].value : null;
  };
  $('#runs tbody').replaceChildren(
    ...runs.map((r) =>
      el(
        'tr',
        {},
        td(el('input', { type: 'checkbox', 'data-run': r.info.run_id, checked: state.selectedRuns.has(r.info.run_id), on: { change: (ev) => (ev.target.checked ? state.selectedRuns.add(r.info.run_id) : state.selectedRuns.delete(r.info.run_id)) } })),
        td(el('span', { class: 'mono' }, r.info.run_id)),
        td(el('span', { class: 'mono' }, r.info.version)),
        td(r.info.status, r.info.status),
        td(pct(metric(r, 'accuracy')), 'num'),
        td(metric(r, 'macro_f1')?.toFixed(3) ?? '–', 'num'),
        td(who(r.info.requested_by)),
        td(fmtTime(new Date(r.info.start_time).toISOString())),
      ),
    ),
  );
  if (state.data.runs.error) $('#comparison').replaceChildren(el('p', { class: 'error' }, `runs: ${state.data.runs.error.message}`));
}

async function compareRuns() {
  const ids = [...state.selectedRuns];
  const out = $('#comparison');
  if (ids.length < 2 || ids.length > 10) return out.replaceChildren(el('p', { class: 'error' }, 'Select 2 to 10 runs.'));
  try {
    const c = await api(`/runs/compare?ids=${ids.map(encodeURIComponent).join(',')}`);
    const head = el('tr', {}, el('th', {}, 'key'), ...c.runs.map((r) => el('th', {}, `${r.run_id} (${r.version})`)));
    const rows = (items) => items.map((it) => el('tr', { class: it.differs ? 'differs' : '' }, td(it.key, 'mono'), ...it.values.map((v) => td(v === null ? '–' : String(v), 'num'))));
    out.replaceChildren(
      el('h3', {}, 'Parameters'),
      el('table', { id: 'compare-params' }, el('thead', {}, head.cloneNode(true)), el('tbody', {}, rows(c.params ?? []))),
      el('h3', {}, 'Metrics'),
      el('table', { id: 'compare-metrics' }, el('thead', {}, head), el('tbody', {}, rows(c.metrics ?? []))),
    );
  } catch (err) {
    out.replaceChildren(el('p', { class: 'error' }, `compare: ${err.message}`));
  }
}

function renderJobs() {
  if (!state.data) return;
  const fromHistory = (state.data.history.value?.entries ?? [])
    .filter((e) => e.job_id && !state.jobs.has(e.job_id))
    .slice(0, 30)
    .map((e) => ({ job_id: e.job_id, kind: e.source, state: 'completed', progress: null, result: e.status, at: e.created_at }));
  const followed = [...state.jobs.values()].map((j) => ({
    job_id: j.job_id,
    kind: j.kind,
    state: j.state,
    progress: j.progress && typeof j.progress === 'object' ? `${j.progress.stage} ${j.progress.percent}%` : j.progress,
    result: j.error ?? j.result?.status ?? j.result?.message ?? '',
    at: j.finished_at ?? j.started_at ?? j.created_at,
  }));
  $('#jobs tbody').replaceChildren(
    ...[...followed.reverse(), ...fromHistory].map((j) =>
      el('tr', { 'data-job': j.job_id }, td(el('span', { class: 'mono' }, j.job_id)), td(j.kind), td(j.state, j.state), td(j.progress ?? ''), td(j.result), td(fmtTime(j.at))),
    ),
  );
}

// ----------------------------------------------------------------------------------------
// Charts (uPlot, served from this API's node_modules)

function chart(key, container, opts, data, empty = 'no data yet') {
  const width = Math.max(320, container.clientWidth - 2 || 800);
  const sig = JSON.stringify([width, opts.series.map((s) => s.label), data, empty]);
  if (state.charts[key]?.sig === sig) return;
  state.charts[key]?.plot.destroy();
  container.replaceChildren();
  // How many x values have a value to draw: what the chart shows (and what a test can read).
  const shown = data[0].filter((_x, i) => data.slice(1).some((ys) => ys[i] !== null && ys[i] !== undefined)).length;
  container.dataset.points = String(shown);
  if (shown === 0) {
    container.append(el('p', { class: 'note' }, empty));
    state.charts[key] = { sig, plot: { destroy() {} } };
    return;
  }
  const plot = new uPlot({ width, height: 220, ...opts }, data, container);
  state.charts[key] = { sig, plot };
}

const percentAxis = { values: (_u, ticks) => ticks.map((t) => `${Math.round(t * 100)}%`) };
const palette = ['#2463c9', '#c77d12', '#1c7c3a', '#7a4fb8', '#b3261e', '#0f8a8a'];

function renderCharts() {
  const d = state.data;
  if (!d || typeof uPlot === 'undefined') return;
  const entries = [...(d.history.value?.entries ?? [])].filter((e) => typeof e.accuracy_new === 'number').reverse();
  chart(
    'gate',
    $('#chart-gate'),
    {
      scales: { y: { range: [0, 1] } },
      axes: [{}, percentAxis],
      series: [{}, { label: 'activated', stroke: '#1c7c3a', width: 0, points: { size: 8 } }, { label: 'rejected', stroke: '#b3261e', width: 0, points: { size: 8 } }],
    },
    [entries.map((e) => Date.parse(e.created_at) / 1000), entries.map((e) => (e.status === 'activated' ? e.accuracy_new : null)), entries.map((e) => (e.status === 'rejected' ? e.accuracy_new : null))],
  );

  const series = state.series?.name === d.name ? state.series : null;
  const qs = series?.quality.value;
  $('#chart-quality-error').textContent = series?.quality.error ? `quality series: ${series.quality.error.message}` : '';
  // The versions that got labels in the window (the latest six), each a line; the active one
  // (else the one with the most labels) also with its 95% interval as a band.
  const labeled = (qs?.versions ?? []).filter((v) => v.points.some((p) => p.n > 0)).slice(-6);
  const labels = (v) => v.points.reduce((a, p) => a + p.n, 0);
  const banded = labeled.find((v) => v.active) ?? [...labeled].sort((a, b) => labels(b) - labels(a))[0];
  const bandIdx = labeled.length + 1;
  const bandColor = palette[Math.max(0, labeled.indexOf(banded)) % palette.length];
  const times = (labeled[0]?.points ?? []).map((p) => Date.parse(p.t) / 1000);
  chart(
    'quality',
    $('#chart-quality'),
    {
      scales: { y: { range: [0, 1] } },
      axes: [{}, percentAxis],
      series: [
        {},
        ...labeled.map((v, i) => ({ label: v.version, stroke: palette[i % palette.length], width: 2, points: { show: true, size: 6 } })),
        ...(banded
          ? [
              { label: `${banded.version} 95% high`, stroke: bandColor, width: 1, dash: [4, 4], points: { show: false } },
              { label: `${banded.version} 95% low`, stroke: bandColor, width: 1, dash: [4, 4], points: { show: false } },
            ]
          : []),
      ],
      bands: banded ? [{ series: [bandIdx, bandIdx + 1], fill: `${bandColor}22` }] : [],
    },
    [
      times,
      ...labeled.map((v) => v.points.map((p) => p.accuracy)),
      ...(banded ? [banded.points.map((p) => p.interval?.high ?? null), banded.points.map((p) => p.interval?.low ?? null)] : []),
    ],
    `no labels in the last ${SERIES_WINDOW_S / 3600} h`,
  );

  // One series per version: a rollback changes which version's inputs are tested.
  const drifts = series?.drift.value?.points ?? [];
  $('#chart-drift-error').textContent = series?.drift.error ? `drift history: ${series.drift.error.message}` : '';
  const driftVersions = [...new Set(drifts.map((p) => p.version))].slice(-6);
  const driftTimes = drifts.map((p) => Date.parse(p.t) / 1000);
  chart(
    'drift',
    $('#chart-drift'),
    {
      // From the first point (at least an hour back) to now: uPlot would pad a lone point's range to years.
      scales: { x: { time: true, range: () => [Math.min(driftTimes[0] ?? Infinity, Date.now() / 1000 - 3600), Date.now() / 1000 + 60] }, y: { range: [0, 1] } },
      axes: [{}, percentAxis],
      series: [{}, ...driftVersions.map((v, i) => ({ label: `${v}: share of features drifted`, stroke: palette[i % palette.length], points: { show: true, size: 5 } }))],
    },
    [driftTimes, ...driftVersions.map((v) => drifts.map((p) => (p.version === v ? p.share : null)))],
    'no drift computed yet (a trainer records a point a minute once the active version has served)',
  );
}

// ----------------------------------------------------------------------------------------
// Actions

async function rollback(version, button) {
  button.disabled = true;
  try {
    const job = await api(`/models/${encodeURIComponent(state.model)}/rollback`, { method: 'POST', json: { version, reason: `rolled back from /ui to ${version}` } });
    state.jobs.set(job.job_id, job);
    showError('');
    $('#auth-status').textContent = `Rollback to ${version} queued: job ${job.job_id}.`;
    await followJobs();
  } catch (err) {
    showError(`rollback: ${err.message}`);
    button.disabled = false;
  }
}

function showView(view) {
  state.view = view;
  for (const b of document.querySelectorAll('.tabs button')) b.classList.toggle('active', b.dataset.view === view);
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== `view-${view}`;
  if (view === 'charts') {
    renderCharts();
    if (state.model) {
      const name = state.model;
      loadSeries(name).then(renderCharts, (err) => showError(err.message));
    }
  }
}

// ----------------------------------------------------------------------------------------
// Start

$('#token').value = state.token;
$('#token-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  state.token = $('#token').value.trim();
  if (state.token) sessionStorage.setItem(TOKEN_KEY, state.token);
  else sessionStorage.removeItem(TOKEN_KEY);
  await probeRole();
  await refresh().catch((err) => showError(err.message));
});
$('#token-clear').addEventListener('click', async () => {
  state.token = '';
  $('#token').value = '';
  sessionStorage.removeItem(TOKEN_KEY);
  await probeRole();
  await refresh().catch((err) => showError(err.message));
});
$('#job-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const id = $('#job-id').value.trim();
  if (!id) return;
  state.jobs.set(id, { job_id: id, state: 'looking up' });
  await followJobs();
});
$('#compare').addEventListener('click', compareRuns);
for (const b of document.querySelectorAll('.tabs button')) b.addEventListener('click', () => showView(b.dataset.view));

// One poll at a time: the next starts when the last has finished, so a slow API is never flooded.
async function poll() {
  try {
    await refresh();
  } catch (err) {
    showError(err.message);
  }
  document.body.dataset.refreshedAt = String(Date.now());
  setTimeout(poll, POLL_MS);
}
await probeRole();
poll();
