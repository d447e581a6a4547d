import type { LabeledSet, ModelSpec } from '@ct/core';
import { DriftReferences, driftReport } from '@ct/queue';
import { collectDefaultMetrics, Counter, Gauge, type Histogram, Registry } from 'prom-client';
import type { Redis } from 'ioredis';
import { liveQuality } from '../feedback/live-quality';
import type { JobQueues } from '../job-queues';
import type { ModelCache } from '../model-cache';
import type { ModelCatalog } from '../model-catalog';
import { RequestDurations } from './request-durations';

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

/** The sources of the API's own parts: the catalogue, the loaded versions, the queues. */
export function metricsSources(d: { catalog: ModelCatalog; cache: ModelCache; queues: JobQueues; redisPrefix: string; qualityWindowS: number }): MetricsSources {
  return {
    specs: () => d.catalog.specs(),
    activeVersion: (model) => d.cache.get(model)?.artifact.version,
    jobCounts: (model) => d.queues.jobCounts(model),
    trainingRows: async (model, version) => {
      const store = d.cache.store(model);
      if (!store) throw new Error(`no model ${model}`);
      return store.trainingRows(version);
    },
    redis: d.queues.redis,
    redisPrefix: d.redisPrefix,
    qualityWindowS: d.qualityWindowS,
  };
}

/** A gauge's value source: one served version. */
interface VersionPoint {
  model: string;
  version: string;
}

/** One served version's live quality, as the gauges show it. */
interface QualityPoint extends VersionPoint {
  labels: number;
  accuracy: number | null;
  coverage: number | null;
}

/** One served version's drift, as the gauges show it. */
interface DriftPoint extends VersionPoint {
  share: number;
  drifted: boolean;
}

/** One version's predicted rows per class index, and its class names. */
interface VersionCounts {
  classes: readonly string[];
  counts: number[];
}

/**
 * `compute`, shared by every gauge that asks within a second: a scrape collects its gauges
 * concurrently, and they read the same tallies. A failure reads as no points.
 */
function perScrape<T>(compute: () => Promise<T[]>): () => Promise<T[]> {
  let last: { at: number; points: Promise<T[]> } | undefined;
  return () => {
    const now = Date.now();
    if (!last || now - last.at >= 1000) last = { at: now, points: compute().catch(() => []) };
    return last.points;
  };
}

/**
 * The API's Prometheus metrics (prom-client): default process metrics,
 * `http_request_duration_seconds{method,route,status_code}` by route template (never the
 * raw URL), `ct_predictions_total{model,version,class}`, and at scrape time the queue depth,
 * live accuracy and feedback coverage per model. `/predict` pays no prom-client label lookup:
 * request durations are counted by {@link RequestDurations}, and predictions are counted as
 * plain numbers per version and applied to prom-client's counter at scrape.
 */
export class ApiMetrics {
  readonly registry = new Registry();
  private readonly httpDuration: RequestDurations;
  private readonly predictions: Counter<'model' | 'version' | 'class'>;
  /** Predicted rows by model, then version, counted per class index. */
  private predicted = new Map<string, Map<string, VersionCounts>>();

  constructor(private readonly sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.httpDuration = new RequestDurations('http_request_duration_seconds', 'HTTP requests by method, route template and status code', [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
    // prom-client's registry reads a metric through get()/getForPromString() and reset(), which
    // RequestDurations has; its types only name prom-client's own classes.
    this.registry.registerMetric(this.httpDuration as unknown as Histogram);
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
    // One read of the quality tallies, and one drift report, per scrape fill the gauges of each.
    const references = new DriftReferences((model, version) => sources.trainingRows(model, version));
    const quality = perScrape<QualityPoint>(() => this.servedVersions(async (spec, version) => {
      const q = await liveQuality(sources.redis, sources.redisPrefix, spec, { windowS: sources.qualityWindowS, activeVersion: version });
      const v = q.versions.find((x) => x.active);
      return { model: spec.name, version, labels: v?.feedback.n ?? 0, accuracy: v?.feedback.accuracy ?? null, coverage: v?.feedback.coverage ?? null };
    }));
    const drift = perScrape<DriftPoint>(() => this.servedVersions(async (spec, version) => {
      const report = await driftReport(sources.redis, sources.redisPrefix, spec, version, await references.get(spec.name, version));
      return report.drift ? { model: spec.name, version, share: report.drift.share, drifted: report.drift.drifted } : undefined;
    }));
    const gauge = <P extends VersionPoint>(name: string, help: string, points: () => Promise<P[]>, pick: (p: P) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ['model', 'version'],
        registers,
        collect: async function (this: Gauge<'model' | 'version'>) {
          this.reset();
          for (const p of await points()) {
            const v = pick(p);
            if (v !== null) this.set({ model: p.model, version: p.version }, v);
          }
        },
      });
    gauge('ct_live_accuracy', 'Accuracy of the served version on feedback in the quality window (absent without labels)', quality, (q) => q.accuracy);
    gauge('ct_feedback_coverage', "Share of the served version's predictions in the quality window that got a label", quality, (q) => q.coverage);
    gauge('ct_feedback_labels', 'Labels received for the served version in the quality window', quality, (q) => q.labels);
    gauge('ct_drift_share', "Share of the served version's features whose latest inputs drifted from its training rows (Evidently's tests)", drift, (d) => d.share);
    gauge('ct_drift_detected', '1 when half or more of the features drifted (the model drifts), else 0', drift, (d) => (d.drifted ? 1 : 0));
  }

  /** `point` for the version each model serves now (none while Redis is down); undefined points are left out. */
  private async servedVersions<P>(point: (spec: ModelSpec, version: string) => Promise<P | undefined>): Promise<P[]> {
    const { sources } = this;
    if (sources.redis.status !== 'ready') return [];
    const out: P[] = [];
    for (const spec of sources.specs()) {
      const version = sources.activeVersion(spec.name);
      if (!version) continue;
      const p = await point(spec, version);
      if (p !== undefined) out.push(p);
    }
    return out;
  }

  /** One finished request. */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpDuration.observe(method, route, status, seconds);
  }

  /** Predicted rows of one answer (counted here, applied to prom-client's counter at scrape). */
  countPredictions(model: string, version: string, classes: readonly string[], labels: ArrayLike<number>): void {
    // By model, then version: no key string made per request.
    let versions = this.predicted.get(model);
    if (!versions) this.predicted.set(model, (versions = new Map<string, VersionCounts>()));
    let entry = versions.get(version);
    if (!entry) versions.set(version, (entry = { classes, counts: new Array<number>(classes.length).fill(0) }));
    for (let i = 0; i < labels.length; i++) entry.counts[labels[i] as number] = (entry.counts[labels[i] as number] ?? 0) + 1;
  }

  /** The text exposition format, with every buffered observation applied. */
  async render(): Promise<{ contentType: string; body: string }> {
    this.apply();
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private apply(): void {
    const predicted = this.predicted;
    this.predicted = new Map();
    for (const [model, versions] of predicted) {
      for (const [version, { classes, counts }] of versions) {
        counts.forEach((n, k) => {
          if (n > 0) this.predictions.inc({ model, version, class: classes[k] ?? String(k) }, n);
        });
      }
    }
  }
}
