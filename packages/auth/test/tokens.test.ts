/**
 * Tokens on real Redis (a unique prefix) and the secret files on a real disk: a token is
 * stored only as its HMAC digest, found by it, listed without it and revoked by id or name;
 * the first start's files are made once, mode 0600, and read by every later start.
 */
import { cleanupRedis, makeTempDir, removeDir, TEST_REDIS_URL, uniquePrefix } from '@ct/testing';
import IORedis from 'ioredis';
import { execFile } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AmbiguousTokenError, bootstrapAdminTokenPath, digestsEqual, generateToken, loadTokenSecret, readOrCreateSecret, rolesFor, roleGrants, tokenDigest, tokenNeeded, TokenStore } from '../src';

describe('TokenStore', () => {
  const prefix = uniquePrefix();
  const redis = new IORedis(TEST_REDIS_URL);
  const secret = Buffer.from('a-test-secret-of-thirty-two-bytes!');
  const store = new TokenStore(redis, prefix, secret);

  afterAll(async () => {
    await cleanupRedis(prefix);
    redis.disconnect();
  });

  it('keeps only the digest, finds the record by it, revokes by id or unique name', async () => {
    const { token, record } = await store.create({ name: 'etl', role: 'trainer', models: ['iris'], createdBy: 'test' });
    expect(token).toMatch(/^ct_[A-Za-z0-9_-]{43}$/);
    expect(record.digest).toBe(tokenDigest(secret, token));
    const stored = await redis.hgetall(`${prefix}:auth:tokens`);
    expect(JSON.stringify(stored)).not.toContain(token);
    expect(await store.findByDigest(store.digest(token))).toEqual(record);
    // Another secret gives another digest: a copy of Redis is no use without it.
    expect(new TokenStore(redis, prefix, Buffer.from('another-secret')).digest(token)).not.toBe(record.digest);

    const twin = await store.create({ name: 'dup', role: 'client', createdBy: 'test' });
    await store.create({ name: 'dup', role: 'client', createdBy: 'test' });
    await expect(store.revoke('dup')).rejects.toBeInstanceOf(AmbiguousTokenError);
    expect((await store.revoke(twin.record.id))?.id).toBe(twin.record.id);
    expect((await store.revoke('etl'))?.id).toBe(record.id);
    expect(await store.findByDigest(record.digest)).toBeUndefined();
    expect(await store.revoke('etl')).toBeUndefined();
    expect((await store.list()).map((r) => r.name)).toEqual(['dup']);
  });

  it('ignores a damaged record rather than trusting it', async () => {
    const digest = tokenDigest(secret, generateToken());
    await redis.hset(`${prefix}:auth:tokens`, digest, JSON.stringify({ role: 'admin' }));
    expect(await store.findByDigest(digest)).toBeUndefined();
  });
});

describe('roles', () => {
  it('one table: admin does everything, trainer no admin, client no training', () => {
    expect(rolesFor('admin')).toEqual(['admin']);
    expect(rolesFor('train')).toEqual(['trainer', 'admin']);
    expect(rolesFor('predict')).toEqual(['client', 'trainer', 'admin']);
    // As the 403's detail and the OpenAPI document say it.
    expect(tokenNeeded('admin')).toBe('an admin token');
    expect(tokenNeeded('train')).toBe('a trainer or admin token');
    expect(roleGrants('client', 'feedback')).toBe(true);
    expect(roleGrants('trainer', 'admin')).toBe(false);
  });

  it('compares digests in constant time, and only well-formed ones', () => {
    const a = tokenDigest(Buffer.from('k'), 'x');
    expect(digestsEqual(a, a)).toBe(true);
    expect(digestsEqual(a, tokenDigest(Buffer.from('k'), 'y'))).toBe(false);
    expect(digestsEqual('', '')).toBe(false);
  });
});

describe('secret files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('makes the admin token once, mode 0600 in a 0700 folder; later starts read it', () => {
    const path = bootstrapAdminTokenPath(dir);
    const first = readOrCreateSecret(path, generateToken);
    expect(first.created).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'secrets')).mode & 0o777).toBe(0o700);
    const again = readOrCreateSecret(path, generateToken);
    expect(again).toEqual({ value: first.value, created: false });
  });

  it('every later start reads the first start\'s secret (exclusive create: a loser reads the winner\'s)', () => {
    const made = Array.from({ length: 4 }, () => loadTokenSecret(dir).toString());
    expect(new Set(made).size).toBe(1);
    expect(loadTokenSecret(dir, 'from-the-environment-thirty-two-chars').toString()).toBe('from-the-environment-thirty-two-chars');
  });

  it('replicas starting at the same instant on one volume all read one complete secret, never an empty file', async () => {
    // Each child spins until a shared instant, then races the others to create the file: the
    // window between creating a file and writing it is what a loser must never see.
    const lib = require.resolve('../dist/index.js');
    const script = `const { loadTokenSecret } = require(${JSON.stringify(lib)});
      const [dir, at] = process.argv.slice(1); while (Date.now() < Number(at));
      try { process.stdout.write(loadTokenSecret(dir).toString()); } catch (e) { process.stdout.write('ERR ' + e.message); }`;
    for (let round = 0; round < 3; round++) {
      const volume = join(dir, `round-${round}`);
      const at = String(Date.now() + 400);
      const outputs = await Promise.all(Array.from({ length: 6 }, () => new Promise<string>((resolve, reject) => {
        execFile(process.execPath, ['-e', script, volume, at], (err, stdout) => (err ? reject(new Error(err.message)) : resolve(stdout)));
      })));
      expect(outputs.filter((o) => o.startsWith('ERR'))).toEqual([]);
      expect(new Set(outputs).size).toBe(1);
      expect(outputs[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
  }, 30_000);

  it('a secret file another process has made but not yet filled is waited for, not taken as damaged', async () => {
    const path = bootstrapAdminTokenPath(dir);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '', { mode: 0o600 });
    // The filler runs in another process: the reader blocks its own thread while it waits.
    const filler = execFile(process.execPath, ['-e', `setTimeout(() => require('node:fs').writeFileSync(${JSON.stringify(path)}, 'ct_filled-by-the-other-replica\\n'), 300)`]);
    await new Promise((resolve) => filler.once('spawn', resolve));
    expect(readOrCreateSecret(path, generateToken)).toEqual({ value: 'ct_filled-by-the-other-replica', created: false });
    await new Promise((resolve) => filler.once('exit', resolve));
    writeFileSync(path, '');
    expect(() => readOrCreateSecret(path, generateToken)).toThrow(/is empty: delete it/);
  });
});
