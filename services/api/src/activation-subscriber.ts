import { createRedisConnection, modelArchivedChannel, modelEventsChannel, modelRegisteredChannel } from '@ct/queue';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ModelCache } from './model-cache';
import type { ModelCatalog } from './model-catalog';

const activationSchema = z.object({ model: z.string(), version: z.string() });
const catalogSchema = z.object({ model: z.string() });

/**
 * Listens for the trainer's announcements: `{ model, version }` after an activation (that
 * model is reloaded at once), and `{ model }` after a registration or an archive (the
 * catalogue looks at that model's files). The cache's stat poll and the catalogue's scan
 * cover any message lost while Redis was away.
 */
export class ActivationSubscriber {
  private readonly connection: Redis;
  private closed = false;

  constructor(opts: { redisUrl: string; prefix: string; cache: ModelCache; catalog?: ModelCatalog; logger: Logger }) {
    const activated = modelEventsChannel(opts.prefix);
    const catalogChannels = opts.catalog ? [modelRegisteredChannel(opts.prefix), modelArchivedChannel(opts.prefix)] : [];
    this.connection = createRedisConnection(opts.redisUrl, 'subscriber', 'ct-api-sub');
    this.connection.on('error', (err: Error) => opts.logger.debug({ err: err.message }, 'redis subscriber error'));
    // ioredis re-subscribes after a reconnect on its own (autoResubscribe).
    this.connection.subscribe(activated, ...catalogChannels).catch((err: Error) => opts.logger.warn({ err: err.message }, 'subscribe failed'));
    this.connection.on('message', (ch: string, text: string) => {
      if (ch !== activated && !catalogChannels.includes(ch)) return;
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      if (ch === activated) {
        const msg = activationSchema.safeParse(json);
        if (msg.success) void opts.cache.reload(msg.data.model);
        else opts.logger.warn({ text }, 'ignoring a malformed activation message');
        return;
      }
      const msg = catalogSchema.safeParse(json);
      if (msg.success) void opts.catalog?.refresh(msg.data.model);
      else opts.logger.warn({ channel: ch, text }, 'ignoring a malformed catalogue message');
    });
  }

  /** Closes the connection. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.connection.disconnect();
  }
}
