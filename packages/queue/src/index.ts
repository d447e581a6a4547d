/** @ct/queue: queue and channel names, job payload and result schemas, Redis connections. */
export * from './job-options';
export * from './job-schemas';
export * from './names';
export * from './redis-connection';
export * from './service-env';
export * from './settle-within';
export * from './feedback-keys';
export * from './automation-config';
export * from './webhooks';
