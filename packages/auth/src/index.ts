/** @ct/auth: roles and what they may do, bearer tokens stored as HMAC digests in Redis, and the secrets behind them. */
export * from './roles';
export * from './secret-file';
export * from './token-digest';
export * from './token-record';
export * from './token-store';
