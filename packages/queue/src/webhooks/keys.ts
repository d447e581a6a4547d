/** The BullMQ queue of webhook deliveries (model queues are `train-<model>`, so no clash). */
export const WEBHOOKS_QUEUE = 'webhooks';

/** Redis keys of the webhooks, under the deployment's prefix. */
export function webhookKeys(prefix: string) {
  return {
    /** Hash: endpoint id to its record (JSON). */
    endpoints: `${prefix}:webhooks:endpoints`,
    /** List: an endpoint's delivery attempts, newest first, capped. */
    log: (endpointId: string) => `${prefix}:webhooks:log:${endpointId}`,
    /** String: a message's payload, kept for redelivery (expires). */
    message: (msgId: string) => `${prefix}:webhooks:msg:${msgId}`,
    /** Hash: per `<msg>.<endpoint>`, how many redeliveries were asked (names each one's job). */
    redeliveries: `${prefix}:webhooks:redeliveries`,
  };
}

/**
 * The id of the job delivering `msgId` to `endpointId`: BullMQ adds a job once per id, so
 * emitting a message twice (a re-run) never delivers it twice to an endpoint.
 */
export function webhookJobId(msgId: string, endpointId: string): string {
  return `${msgId}.${endpointId}`;
}
