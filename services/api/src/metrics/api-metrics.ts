import type { LabeledSet, ModelSpec } from '@ct/core';
import { driftReport } from '../feedback/drift-report';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Redis } from 'ioredis';
import { liveQuality } from '../feedback/live-quality';

/** What the API's metrics read at scrape time. */
export interface MetricsSources {
  /** The models served now. */
  specs(): readonly ModelSpec[];
  /** The version each model serves now. */
  activeVersion(model: string): string | undefined;
  /** Unfinished jobs by state, per model (undefined while Redis is down). */
  jobCounts(model: string): Promise<Record<string, number> | undefined>;
  /** A version's training rows (the drift reference); they never change, so they are kept. */
  trainingRows(model: string, version: string): Promise<LabeledSet>;
  redis: Redis;
  redisPrefix: string;
  qualityWindowS: number;
}

/** One served version's live quality, as the gauges show it. */
interface QualityPoint {
  model: string;
  version: string;
  labels: number;
  accuracy: number | null;
  coverage: number | null;
}

/** One served version's drift, as the gauges show it. */
interface DriftPoint {
  model: string;
  version: string;
  share: number;
  drifted: boolean;
}

/** Observations buffered on the hot path, applied in one go (at scrape, or every BATCH). */
const BATCH = 4096;

/**
 * The API's Prometheus metrics (prom-client): default process metrics,
 * `http_request_duration_seconds{method,route,status_code}` by route template (never the
 * raw URL), `ct_predictions_total{model,version,class}`, and at scrape time the queue depth,
 * live accuracy and feedback coverage per model. The request and prediction counts are
 * buffered as plain numbers where they happen and applied to prom-client's objects in
 * batches, so `/predict` pays a push per request, not a label lookup.
 */
export class ApiMetrics {
  readonly registry = new Registry();
  private readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  private readonly predictions: Counter<'model' | 'version' | 'class'>;
  private requests: { method: string; route: string; status: number; seconds: number }[] = [];
  private predicted = new Map<string, number>();

  constructor(private readonly sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP requests by method, route template and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.predictions = new Counter({ name: 'ct_predictions_total', help: 'Predicted rows by model, version and predicted class', labelNames: ['model', 'version', 'class'], registers });
    new Gauge({
      name: 'ct_queue_jobs',
      help: 'Jobs of each model queue by state (waiting, active, delayed, prioritized)',
      labelNames: ['model', 'state'],
      registers,
      async collect() {
        this.reset();
        for (const spec of sources.specs()) {
          const counts = await sources.jobCounts(spec.name);
          for (const [state, n] of Object.entries(counts ?? {})) this.set({ model: spec.name, state }, n);
        }
      },
    });
    // One read of the quality tallies per scrape fills the three gauges, whichever collects first.
    const quality = (): Promise<QualityPoint[]> => this.quality();
    const gauge = (name: string, help: string, pick: (q: QualityPoint) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ['model', 'version'],
        registers,
        collect: async function (this: Gauge<'model' | 'version'>) {
          this.reset();
          for (const q of await quality()) {
            const v = pick(q);
            if (v !== null) this.set({ model: q.model, version: q.version }, v);
          }
        },
      });
    gauge('ct_live_accuracy', 'Accuracy of the served version on feedback in the quality window (absent without labels)', (q) => q.accuracy);
    gauge('ct_feedback_coverage', "Share of the served version's predictions in the quality window that got a label", (q) => q.coverage);
    gauge('ct_feedback_labels', 'Labels received for the served version in the quality window', (q) => q.labels);
    // Drift of the served version's latest inputs against its training rows, once per scrape.
    const drift = (): Promise<DriftPoint[]> => this.drift();
    const driftGauge = (name: string, help: string, pick: (d: DriftPoint) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['model', 'version'],
        registers,
        collect: async function (this: Gauge<'model' | 'version'>) {
          this.reset();
          for (const d of await drift()) this.set({ model: d.model, version: d.version }, pick(d));
        },
      });
    driftGauge('ct_drift_share', "Share of the served version's features whose latest inputs drifted from its training rows (Evidently's tests)", (d) => d.share);
    driftGauge('ct_drift_detected', '1 when half or more of the features drifted (the model drifts), else 0', (d) => (d.drifted ? 1 : 0));
  }

  private snapshot: { at: number; points: Promise<QualityPoint[]> } | undefined;

  /** Live quality of each served version, read once per scrape (reused for a second). */
  private quality(): Promise<QualityPoint[]> {
    const now = Date.now();
    if (this.snapshot && now - this.snapshot.at < 1000) return this.snapshot.points;
    const { sources } = this;
    const points = (async () => {
      if (sources.redis.status !== 'ready') return [];
      const out: QualityPoint[] = [];
      for (const spec of sources.specs()) {
        const active = sources.activeVersion(spec.name);
        if (!active) continue;
        const q = await liveQuality(sources.redis, sources.redisPrefix, spec, { windowS: sources.qualityWindowS, activeVersion: active });
        const v = q.versions.find((x) => x.active);
        out.push({ model: spec.name, version: active, labels: v?.feedback.n ?? 0, accuracy: v?.feedback.accuracy ?? null, coverage: v?.feedback.coverage ?? null });
      }
      return out;
    })().catch(() => []);
    this.snapshot = { at: now, points };
    return points;
  }

  private driftSnapshot: { at: number; points: Promise<DriftPoint[]> } | undefined;
  private readonly references = new Map<string, Promise<LabeledSet>>();

  /** Drift of each served version that has served inputs, computed once per scrape (reused for a second). */
  private drift(): Promise<DriftPoint[]> {
    const now = Date.now();
    if (this.driftSnapshot && now - this.driftSnapshot.at < 1000) return this.driftSnapshot.points;
    const { sources } = this;
    const points = (async () => {
      if (sources.redis.status !== 'ready') return [];
      const out: DriftPoint[] = [];
      for (const spec of sources.specs()) {
        const version = sources.activeVersion(spec.name);
        if (!version) continue;
        const key = `${spec.name}\n${version}`;
        let reference = this.references.get(key);
        if (!reference) {
          // Served versions change rarely; a bound keeps retired ones from piling up.
          if (this.references.size >= 64) this.references.clear();
          reference = sources.trainingRows(spec.name, version);
          this.references.set(key, reference);
        }
        const report = await driftReport(sources.redis, sources.redisPrefix, spec, version, await reference);
        if (report.drift) out.push({ model: spec.name, version, share: report.drift.share, drifted: report.drift.drifted });
      }
      return out;
    })().catch(() => []);
    this.driftSnapshot = { at: now, points };
    return points;
  }

  /** One finished request (buffered). */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.requests.push({ method, route, status, seconds });
    if (this.requests.length >= BATCH) this.apply();
  }

  /** Predicted rows of one answer (buffered). */
  countPredictions(model: string, version: string, classes: readonly string[], labels: ArrayLike<number>): void {
    for (let i = 0; i < labels.length; i++) {
      const key = `${model}\n${version}\n${classes[labels[i] as number] ?? String(labels[i])}`;
      this.predicted.set(key, (this.predicted.get(key) ?? 0) + 1);
    }
    if (this.predicted.size >= BATCH) this.apply();
  }

  /** The text exposition format, with every buffered observation applied. */
  async render(): Promise<{ contentType: string; body: string }> {
    this.apply();
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private apply(): void {
    const requests = this.requests;
    this.requests = [];
    for (const r of requests) this.httpDuration.observe({ method: r.method, route: r.route, status_code: String(r.status) }, r.seconds);
    const predicted = this.predicted;
    this.predicted = new Map();
    for (const [key, n] of predicted) {
      const [model, version, cls] = key.split('\n') as [string, string, string];
      this.predictions.inc({ model, version, class: cls }, n);
    }
  }
}
