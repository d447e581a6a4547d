import fc from 'fast-check';
import { Histogram, Registry } from 'prom-client';
import { RequestDurations } from '../src/metrics/request-durations';

// RequestDurations must export exactly what prom-client's own Histogram exports for the same
// observations: the same text (label order, cumulative buckets, +Inf, sum, count, series
// order) and the same JSON.

const NAME = 'http_request_duration_seconds';
const HELP = 'HTTP requests by method, route template and status code';
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Obs {
  method: string;
  route: string;
  status: number;
  seconds: number;
}

function both(): { ours: RequestDurations; theirs: Histogram<'method' | 'route' | 'status_code'>; oursReg: Registry; theirsReg: Registry } {
  const oursReg = new Registry();
  const theirsReg = new Registry();
  const ours = new RequestDurations(NAME, HELP, BUCKETS);
  oursReg.registerMetric(ours as unknown as Histogram);
  const theirs = new Histogram({ name: NAME, help: HELP, labelNames: ['method', 'route', 'status_code'], buckets: BUCKETS, registers: [theirsReg] });
  return { ours, theirs, oursReg, theirsReg };
}

function feed(obs: readonly Obs[], ours: RequestDurations, theirs: Histogram<'method' | 'route' | 'status_code'>): void {
  for (const o of obs) {
    ours.observe(o.method, o.route, o.status, o.seconds);
    theirs.observe({ method: o.method, route: o.route, status_code: String(o.status) }, o.seconds);
  }
}

const observation: fc.Arbitrary<Obs> = fc.record({
  method: fc.constantFrom('GET', 'POST', 'DELETE'),
  route: fc.constantFrom('/predict', '/models/:model/predict', '/models/:model/versions/:version', 'unmatched', 'a "quoted" \\ route\n'),
  status: fc.constantFrom(200, 202, 404, 422, 429, 500),
  // Bounds themselves (a value on a bound is in that bucket), zero, past the last bound, and anything between.
  seconds: fc.oneof(fc.constantFrom(0, ...BUCKETS, 10.000001, 60), fc.double({ min: 0, max: 20, noNaN: true })),
});

describe('RequestDurations', () => {
  it('exports the text and JSON prom-client’s Histogram exports for the same observations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(observation, { maxLength: 200 }), async (obs) => {
        const { ours, theirs, oursReg, theirsReg } = both();
        feed(obs, ours, theirs);
        expect(await oursReg.metrics()).toBe(await theirsReg.metrics());
        expect(await oursReg.getMetricsAsJSON()).toEqual(await theirsReg.getMetricsAsJSON());
      }),
      { numRuns: 200, seed: 20261202 },
    );
  });

  it('puts a value on a bound in that bucket, and one past the last bound only in +Inf', async () => {
    const { ours, oursReg } = both();
    ours.observe('POST', '/predict', 200, 0.001);
    ours.observe('POST', '/predict', 200, 11);
    const text = await oursReg.metrics();
    expect(text).toContain('http_request_duration_seconds_bucket{le="0.0005",method="POST",route="/predict",status_code="200"} 0');
    expect(text).toContain('http_request_duration_seconds_bucket{le="0.001",method="POST",route="/predict",status_code="200"} 1');
    expect(text).toContain('http_request_duration_seconds_bucket{le="10",method="POST",route="/predict",status_code="200"} 1');
    expect(text).toContain('http_request_duration_seconds_bucket{le="+Inf",method="POST",route="/predict",status_code="200"} 2');
    expect(text).toContain('http_request_duration_seconds_sum{method="POST",route="/predict",status_code="200"} 11.001');
    expect(text).toContain('http_request_duration_seconds_count{method="POST",route="/predict",status_code="200"} 2');
  });

  it('forgets everything on the registry’s reset, as prom-client does', async () => {
    const { ours, theirs, oursReg, theirsReg } = both();
    feed([{ method: 'GET', route: '/health', status: 200, seconds: 0.002 }], ours, theirs);
    oursReg.resetMetrics();
    theirsReg.resetMetrics();
    expect(await oursReg.metrics()).toBe(await theirsReg.metrics());
    feed([{ method: 'POST', route: '/train', status: 202, seconds: 0.02 }], ours, theirs);
    expect(await oursReg.metrics()).toBe(await theirsReg.metrics());
  });

  it('refuses bounds that do not increase', () => {
    expect(() => new RequestDurations(NAME, HELP, [0.1, 0.1])).toThrow(RangeError);
    expect(() => new RequestDurations(NAME, HELP, [1, NaN])).toThrow(RangeError);
  });
});
