import { createRedisConnection, modelEventsChannel } from '@ct/queue';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ModelCache } from './model-cache';

const messageSchema = z.object({ model: z.string(), version: z.string() });

/**
 * Listens for the trainer's `{ model, version }` announcements and reloads that model at
 * once. The cache's stat poll covers any message lost while Redis was away.
 */
export class ActivationSubscriber {
  private readonly connection: Redis;
  private closed = false;

  constructor(opts: { redisUrl: string; prefix: string; cache: ModelCache; logger: Logger }) {
    const channel = modelEventsChannel(opts.prefix);
    this.connection = createRedisConnection(opts.redisUrl, 'subscriber', 'ct-api-sub');
    this.connection.on('error', (err: Error) => opts.logger.debug({ err: err.message }, 'redis subscriber error'));
    // ioredis re-subscribes after a reconnect on its own (autoResubscribe).
    this.connection.subscribe(channel).catch((err: Error) => opts.logger.warn({ err: err.message }, 'subscribe failed'));
    this.connection.on('message', (ch: string, text: string) => {
      if (ch !== channel) return;
      let msg: z.infer<typeof messageSchema>;
      try {
        msg = messageSchema.parse(JSON.parse(text));
      } catch {
        opts.logger.warn({ text }, 'ignoring a malformed activation message');
        return;
      }
      void opts.cache.reload(msg.model);
    });
  }

  /** Closes the connection. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.connection.disconnect();
  }
}
