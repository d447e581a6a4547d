/** @ct/queue: queue and channel names, job payload and result schemas, Redis connections, and what both services read from Redis alike (drift reports, webhooks). */
export * from './job-options';
export * from './job-schemas';
export * from './names';
export * from './redis-connection';
export * from './service-env';
export * from './settle-within';
export * from './feedback-keys';
export * from './drift-report';
export * from './drift-history';
export * from './automation-config';
export * from './webhooks';
