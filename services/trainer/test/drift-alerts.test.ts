/**
 * DriftAlerts on the real Redis, without a pipeline: two instances (two trainers) check one
 * model at the same moment and send one message; an emission that fails leaves the alert armed
 * and the next check sends the same message id; the drift history gets one point per minute
 * from two checkers at once, subscribers or not. The inputs are pushed where the API's
 * prediction index keeps them; the store is a stand-in that knows the active version and its
 * training rows.
 */
import { createRedisConnection, DRIFT_HISTORY_TTL_S, DriftHistory, feedbackKeys, webhookJobId, webhookMessageId, Webhooks, type WebhookEventType } from '@ct/queue';
import type { RawValue } from '@ct/core';
import type { ModelStore } from '@ct/registry';
import pino from 'pino';
import { DriftAlerts, type EmitWebhookEventNow } from '../src/drift-alerts';
import { IRIS, irisRows, sandbox, TEST_REDIS_URL } from './helpers';

const VERSION = 'v1.0-abcdef';
const reference = irisRows(1, 120);
const store = { head: async () => ({ state: { active: VERSION } }), trainingRows: async () => reference } as unknown as ModelStore;
const logger = pino({ level: 'silent' });

const redis = createRedisConnection(TEST_REDIS_URL, 'worker', 'drift-alerts-test');
let box: Awaited<ReturnType<typeof sandbox>>;
let webhooks: Webhooks;
let endpoint: string;

// Each test has its own prefix: its own alert state, inputs and endpoint.
beforeEach(async () => {
  box = await sandbox();
  webhooks = new Webhooks({ redis, prefix: box.prefix });
  // Never called: the deliveries stay queued, which is what is counted.
  endpoint = (await webhooks.create({ url: 'http://127.0.0.1:9/hook', events: ['drift.alert'] })).id;
});
afterEach(async () => {
  await webhooks.close();
  await box.cleanup();
});
afterAll(async () => {
  await redis.quit();
});

/** Makes the version's latest inputs `rows` (newest first, as the prediction index keeps them). */
async function inputs(rows: readonly (readonly RawValue[])[]): Promise<void> {
  const key = feedbackKeys(box.prefix).inputs('iris', VERSION);
  await redis.del(key);
  await redis.lpush(key, ...rows.map((r) => JSON.stringify(r)));
}

const far = (n: number): number[][] => Array.from({ length: n }, (_, i) => [20 + (i % 7), 20 + (i % 5), 20 + (i % 3), 20 + (i % 11)]);
const alerts = (emit: EmitWebhookEventNow, subscribed?: () => Promise<boolean>, now?: () => number) =>
  new DriftAlerts({ redis, prefix: box.prefix, storeOf: () => store, emit, logger, ...(subscribed ? { subscribed } : {}), ...(now ? { now } : {}) });
const emitReal: EmitWebhookEventNow = (type, data, key) => webhooks.emit(type, data, { key });

test('two trainers seeing one transition at once send one message; one of them records it', async () => {
  await inputs(far(200));
  // Both checks reach the emission before either records the alert: the race every trainer pair can run.
  let arrived = 0;
  let release!: () => void;
  const bothThere = new Promise<void>((r) => (release = r));
  const emitTogether: EmitWebhookEventNow = async (type: WebhookEventType, data, key) => {
    if (++arrived === 2) release();
    await bothThere;
    return emitReal(type, data, key);
  };
  const [a, b] = await Promise.all([alerts(emitTogether).check(IRIS), alerts(emitTogether).check(IRIS)]);
  const msgId = webhookMessageId('drift.alert', `iris:${VERSION}:1`);
  expect([a, b].map((c) => c.state)).toEqual(['detected', 'detected']);
  const recorded = [a, b].flatMap((c) => (c.state === 'detected' && c.alerted ? [c.alerted] : []));
  expect(recorded).toEqual([{ episode: 1, msg_id: msgId }]);
  const jobs = await webhooks.queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']);
  expect(jobs.map((j) => j.id)).toEqual([webhookJobId(msgId, endpoint)]);
  expect(JSON.parse(jobs[0]?.data.payload ?? '{}')).toMatchObject({ type: 'drift.alert', data: { model: 'iris', version: VERSION, episode: 1, share: 1, current_rows: 200, reference_rows: 120 } });
  // Still drifted: nothing more, from either.
  expect(await alerts(emitReal).check(IRIS)).toMatchObject({ state: 'detected', alerted: null });
});

test('an emission that fails leaves the alert armed; the next check sends it, with the id it would have had', async () => {
  // Alerted once, then cleared: the second episode is next.
  await inputs(far(50));
  expect(await alerts(emitReal).check(IRIS)).toMatchObject({ state: 'detected', alerted: { episode: 1 } });
  await inputs(reference.x);
  expect(await alerts(emitReal).check(IRIS)).toMatchObject({ state: 'clear' });
  expect(await redis.hgetall(feedbackKeys(box.prefix).driftAlert('iris'))).toEqual({ episode: '1' });
  await inputs(far(50));
  const failing: EmitWebhookEventNow = async () => {
    throw new Error('redis went away');
  };
  await expect(alerts(failing).check(IRIS)).rejects.toThrow('redis went away');
  expect(await redis.hget(feedbackKeys(box.prefix).driftAlert('iris'), 'version')).toBeNull();
  expect(await alerts(emitReal).check(IRIS)).toMatchObject({ state: 'detected', alerted: { episode: 2, msg_id: webhookMessageId('drift.alert', `iris:${VERSION}:2`) } });
});

test('no inputs yet: nothing is decided, the state is left as it was', async () => {
  await inputs(far(50));
  expect(await alerts(emitReal).check(IRIS)).toMatchObject({ state: 'detected', alerted: { episode: 1 } });
  await redis.del(feedbackKeys(box.prefix).inputs('iris', VERSION));
  expect(await alerts(emitReal).check(IRIS)).toMatchObject({ state: 'unknown' });
  expect(await redis.hgetall(feedbackKeys(box.prefix).driftAlert('iris'))).toEqual({ version: VERSION, episode: '1' });
});

test('no endpoint subscribes to drift.alert: no alert is decided and nothing is sent; one that subscribes gets the alert', async () => {
  await inputs(far(50));
  const unsubscribed = await webhooks.update(endpoint, { events: ['model.activated'] });
  expect(unsubscribed?.events).toEqual(['model.activated']);
  const subscribed = () => webhooks.subscribed('drift.alert');
  expect(await alerts(emitReal, subscribed).check(IRIS)).toMatchObject({ state: 'unknown', reason: 'no endpoint subscribes to drift.alert' });
  expect(await redis.exists(feedbackKeys(box.prefix).driftAlert('iris'))).toBe(0);
  await webhooks.update(endpoint, { events: ['drift.alert'] });
  expect(await alerts(emitReal, subscribed).check(IRIS)).toMatchObject({ state: 'detected', alerted: { episode: 1 } });
});

describe('the drift history', () => {
  // A fixed clock: the minute of each check is the test's, not the wall clock's.
  const MINUTE = Date.UTC(2030, 0, 1, 12, 0, 0);
  const at = (ms: number) => () => MINUTE + ms;
  const nobody = async () => false;
  const history = () => new DriftHistory(redis, box.prefix);

  test('one point per minute from two checkers at once, with no endpoint subscribed; no alert is decided', async () => {
    await inputs(far(50));
    // Both checkers past the "is this minute's point due?" look before either records it.
    let asked = 0;
    let release!: () => void;
    const bothAsked = new Promise<void>((r) => (release = r));
    const nobodyTogether = async () => {
      if (++asked === 2) release();
      await bothAsked;
      return false;
    };
    const both = await Promise.all([alerts(emitReal, nobodyTogether, at(5_000)).check(IRIS), alerts(emitReal, nobodyTogether, at(6_000)).check(IRIS)]);
    expect(both.map((c) => c.state)).toEqual(['unknown', 'unknown']);
    expect(both.filter((c) => c.recorded)).toHaveLength(1);
    const first = { version: VERSION, share: 1, drifted: true, drifted_features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'], current_rows: 50 };
    expect(await history().read('iris')).toEqual([{ t: expect.stringMatching(/^2030-01-01T12:00:0[56]\.000Z$/), ...first }]);
    // Later in the same minute: nothing more, and no drift computed for no one.
    expect(await alerts(emitReal, nobody, at(50_000)).check(IRIS)).toEqual({ model: 'iris', state: 'unknown', version: VERSION, reason: 'no endpoint subscribes to drift.alert' });
    // The next minute: its own point, whatever the inputs are now.
    await inputs(reference.x);
    expect(await alerts(emitReal, nobody, at(61_000)).check(IRIS)).toMatchObject({ recorded: true });
    const points = await history().read('iris');
    expect(points.map((p) => [p.t, p.drifted, p.current_rows])).toEqual([
      [expect.stringMatching(/^2030-01-01T12:00:0[56]\.000Z$/), true, 50],
      ['2030-01-01T12:01:01.000Z', false, 120],
    ]);
    expect(await history().read('iris', MINUTE + 60_000)).toEqual([points[1]]);
    expect(await redis.exists(feedbackKeys(box.prefix).driftAlert('iris'))).toBe(0);
    const ttl = await redis.ttl(feedbackKeys(box.prefix).driftHistory('iris'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(DRIFT_HISTORY_TTL_S);
  });

  test('a minute with no inputs yet stays unclaimed: the first inputs make its point; a subscribed check records it too', async () => {
    expect(await alerts(emitReal, nobody, at(1_000)).check(IRIS)).toMatchObject({ state: 'unknown', reason: 'no inputs to compare yet' });
    expect(await history().read('iris')).toEqual([]);
    await inputs(far(30));
    // Subscribed: the alert and the minute's point from one check.
    expect(await alerts(emitReal, undefined, at(2_000)).check(IRIS)).toMatchObject({ state: 'detected', alerted: { episode: 1 }, recorded: true });
    expect(await alerts(emitReal, undefined, at(3_000)).check(IRIS)).toEqual({ model: 'iris', state: 'detected', version: VERSION, share: 1, alerted: null });
    expect((await history().read('iris')).map((p) => [p.t, p.current_rows])).toEqual([['2030-01-01T12:00:02.000Z', 30]]);
  });
});
