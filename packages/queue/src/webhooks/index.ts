/** Webhooks: endpoints, emission of events as BullMQ jobs, and their signed delivery. */
export * from './delivery';
export * from './keys';
export * from './schemas';
export * from './settings';
export * from './webhooks';
