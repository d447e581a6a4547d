import IORedis, { type Redis, type RedisOptions } from 'ioredis';

/**
 * What a connection is for. Workers and subscribers block or wait for ever, so their
 * commands must never give up (`maxRetriesPerRequest: null`, as BullMQ requires). The API's
 * producer must fail fast instead: its users check `status === 'ready'` before each use (so
 * `/train` answers 503 at once while Redis is down), and a command caught by an outage gives
 * up after one reconnect attempt or a 3 s timeout. The offline queue stays on because BullMQ
 * sends set-up commands while the connection is still opening.
 */
export type ConnectionRole = 'worker' | 'producer' | 'subscriber';

/** Opens an ioredis connection configured for `role`. */
export function createRedisConnection(url: string, role: ConnectionRole, name?: string): Redis {
  const common: RedisOptions = {
    connectionName: name ?? `ct-${role}`,
    // Keep retrying in the background with a capped delay; the caller decides what to do meanwhile.
    retryStrategy: (times) => Math.min(times * 200, 2000),
  };
  const byRole: Record<ConnectionRole, RedisOptions> = {
    worker: { maxRetriesPerRequest: null },
    subscriber: { maxRetriesPerRequest: null },
    producer: { maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 3000 },
  };
  return new IORedis(url, { ...common, ...byRole[role] });
}
