import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** A finished job as the metrics see it. */
export interface FinishedJob {
  model: string;
  kind: string;
  /** `activated`, `rejected`, `applied` (a result's status), or `failed`. */
  outcome: string;
  seconds: number;
  /** The gate's violation codes (a training job's), if any. */
  violations?: readonly string[];
}

/**
 * The trainer's Prometheus metrics: default process metrics,
 * `ct_job_duration_seconds{model,kind,outcome}`, `ct_gate_decisions_total{model,outcome}`
 * and `ct_gate_violations_total{model,code}`, served with a health answer on a small HTTP
 * port of its own (the trainer has no API).
 */
export class TrainerMetrics {
  readonly registry = new Registry();
  private readonly duration: Histogram<'model' | 'kind' | 'outcome'>;
  private readonly decisions: Counter<'model' | 'outcome'>;
  private readonly violations: Counter<'model' | 'code'>;
  private server: Server | undefined;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.duration = new Histogram({
      name: 'ct_job_duration_seconds',
      help: 'Jobs by model, kind and outcome, from start to finish',
      labelNames: ['model', 'kind', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.decisions = new Counter({ name: 'ct_gate_decisions_total', help: "The gate's decisions on trained candidates by model and outcome", labelNames: ['model', 'outcome'], registers });
    this.violations = new Counter({ name: 'ct_gate_violations_total', help: "Violations behind the gate's rejections, by model and code", labelNames: ['model', 'code'], registers });
  }

  /** Records a finished job. */
  jobFinished(job: FinishedJob): void {
    this.duration.observe({ model: job.model, kind: job.kind, outcome: job.outcome }, job.seconds);
    if (job.kind === 'train' && (job.outcome === 'activated' || job.outcome === 'rejected')) {
      this.decisions.inc({ model: job.model, outcome: job.outcome });
      for (const code of job.violations ?? []) this.violations.inc({ model: job.model, code });
    }
  }

  /** Serves `GET /metrics` and `GET /health` (`ready()` decides 200 or 503) on `port` (0: any). */
  listen(port: number, host: string, ready: () => boolean): Promise<number> {
    const server = createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/metrics') {
        this.registry.metrics().then(
          (body) => res.writeHead(200, { 'Content-Type': this.registry.contentType }).end(body),
          () => res.writeHead(500).end(),
        );
      } else if (req.method === 'GET' && req.url === '/health') {
        const ok = ready();
        res.writeHead(ok ? 200 : 503, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ok' : 'starting' }));
      } else res.writeHead(404).end();
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        const addr = server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  /** Stops the HTTP port. */
  close(): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    return new Promise((r) => server.close(() => r()));
  }
}
