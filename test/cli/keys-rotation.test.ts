/**
 * Changing the encryption key end to end with real processes (docs/protocol.md §13): workers on
 * [old] write → workers on [new, old] still read it and seal new writes with new (seen in
 * `keys status`) → `keys rewrap` while a client keeps updating the same keys → workers on
 * [new] alone read everything, and every key holds its last acknowledged write. A worker
 * whose ring opens neither the canary nor any record refuses to start, naming the variable.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { Redis } from 'ioredis';
import { SecretClient } from '@secret-svc/client';
import { keyIdOf } from '../../src/keyring-source.js';
import { TestIssuer } from '../helpers/identities.js';
import { spawnWorker, type WorkerProcess } from '../helpers/process.js';
import { NatsServer, RedisServer } from '../helpers/servers.js';
import { cli } from './run-cli.js';

const key = () => randomBytes(32).toString('base64');
const [OLD, NEW, OTHER] = [key(), key(), key()];
const id = (k: string) => keyIdOf(Buffer.from(k, 'base64'));
const SECRETS = 40;
const name = (i: number) => `rot-svc/K${i}`;

describe('keys status / keys rewrap: a key change with real workers', { timeout: 240_000 }, () => {
  let nats: NatsServer;
  let redis: RedisServer;
  let nc: NatsConnection;
  const procs: WorkerProcess[] = [];
  const issuer = new TestIssuer();
  const caller = issuer.caller('rot-svc');
  const ring = (...keys: string[]) => ({
    NATS_URL: nats.url, REDIS_URL: redis.url, SECRET_SVC_ISSUERS: issuer.publicKey, SECRET_SVC_ENCRYPTION_KEYS: keys.join(','),
  });
  /** What keys status / rewrap read: the keyring and Redis, nothing else. */
  const operatorEnv = (...keys: string[]) => ({ REDIS_URL: redis.url, SECRET_SVC_ENCRYPTION_KEYS: keys.join(',') });
  const workers = async (n: number, env: Record<string, string>) => {
    const started = await Promise.all(Array.from({ length: n }, () => spawnWorker(env, { timeoutMs: 60_000 })));
    for (const w of started) expect(w.proc.exitCode, w.output()).toBeNull();
    procs.push(...started);
    return started;
  };
  const stopAll = async (ws: WorkerProcess[]) => {
    for (const code of await Promise.all(ws.map((w) => w.stop()))) expect(code).toBe(0);
  };
  const status = async (...keys: string[]) => {
    const r = await cli(['keys', 'status', '--json'], { env: operatorEnv(...keys) });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { id: string; inRing: boolean; values: number }[];
  };

  beforeAll(async () => {
    [nats, redis] = await Promise.all([NatsServer.start(), RedisServer.start()]);
    nc = await connect({ servers: nats.url, noAsyncTraces: true });
  });
  afterAll(async () => {
    await Promise.allSettled(procs.map((p) => p.stop('SIGKILL')));
    await nc?.close();
    await nats?.stop();
    await redis?.cleanup();
  });

  it('[old] → [new, old] → rewrap under concurrent writes → [new] alone, losing no write', async () => {
    const c = await SecretClient.connect({ nc, credential: caller.credential, key: caller.key, encoding: 'msgpack', timeoutMs: 15_000 });
    const expected = new Map<string, string>();

    // 1. Workers on [old] write every secret twice (two versions).
    const onOld = await workers(1, ring(OLD));
    for (let i = 0; i < SECRETS; i++) {
      await c.create(name(i), `${name(i)}-1`);
      await c.update(name(i), { value: `${name(i)}-2` });
      expected.set(name(i), `${name(i)}-2`);
    }
    expect(await status(OLD)).toEqual([{ id: id(OLD), inRing: true, values: 2 * SECRETS + 1 }]);
    await stopAll(onOld);

    // 2. Workers on [new, old]: old values still read, new writes sealed by new.
    const onBoth = await workers(2, ring(NEW, OLD));
    for (let i = 0; i < SECRETS; i++) expect((await c.read(name(i))).value).toBe(`${name(i)}-2`);
    expect((await c.read(name(0), { version: 1 })).value).toBe(`${name(0)}-1`);
    for (let i = 20; i < 30; i++) {
      await c.update(name(i), { value: `${name(i)}-3` });
      expected.set(name(i), `${name(i)}-3`);
    }
    for (let i = SECRETS; i < SECRETS + 5; i++) {
      await c.create(name(i), `${name(i)}-1`);
      expected.set(name(i), `${name(i)}-1`);
    }
    expect(await status(NEW, OLD)).toEqual([
      { id: id(NEW), inRing: true, values: 15 },
      { id: id(OLD), inRing: true, values: 2 * SECRETS + 1 },
    ]);
    // Seen from the old ring alone, the new key is a stranger.
    expect(await status(OLD)).toEqual([{ id: id(OLD), inRing: true, values: 2 * SECRETS + 1 }, { id: id(NEW), inRing: false, values: 15 }]);
    const text = await cli(['keys', 'status'], { env: operatorEnv(NEW, OLD) });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`${id(NEW)}\\s+1 \\(seals\\)\\s+15`));
    expect(text.stdout).toMatch(new RegExp(`${id(OLD)}\\s+2\\s+${2 * SECRETS + 1}\\s+still needed`));

    // 3. keys rewrap while a client keeps updating the same keys through the [new, old] workers.
    let rewrapping = true;
    let writes = 0;
    const writer = (async () => {
      for (let n = 0; rewrapping; n++) {
        const k = name(n % 20);
        const value = `${k}-w${n}`;
        await c.update(k, { value });
        expected.set(k, value); // acknowledged
        writes++;
      }
    })();
    const rewrap = await cli(['keys', 'rewrap', '--batch', '4'], { env: operatorEnv(NEW, OLD) });
    rewrapping = false;
    await writer;
    if (process.env.SHOW_REWRAP) console.log(rewrap.stdout);
    expect(rewrap.code, rewrap.stderr).toBe(0);
    expect(writes).toBeGreaterThan(0);
    expect(rewrap.stdout).toMatch(new RegExp(`^rewrap to key ${id(NEW)}: ${SECRETS + 6} records .*: \\d+ moved, \\d+ already current, ` +
      '0 skipped because they changed, 0 failed \\(\\d+ pass', 'm'));
    expect(rewrap.stdout).toContain(`every stored value is under key ${id(NEW)}`);
    // Nothing left under old: every kept version (as the versions op lists them) and the canary are under new.
    let kept = 1;
    for (const k of expected.keys()) kept += (await c.versions(k)).versions.length;
    expect(await status(NEW, OLD)).toEqual([{ id: id(NEW), inRing: true, values: kept }, { id: id(OLD), inRing: true, values: 0 }]);
    // Run again: idempotent, everything already current.
    const again = await cli(['keys', 'rewrap'], { env: operatorEnv(NEW, OLD) });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`0 moved, ${SECRETS + 6} already current, 0 skipped because they changed, 0 failed`);
    await stopAll(onBoth);

    // 4. Workers on [new] alone read everything: each key's last acknowledged write, and history.
    await workers(2, ring(NEW));
    for (const [k, value] of expected) expect((await c.read(k)).value, k).toBe(value);
    expect((await c.read(name(30), { version: 1 })).value).toBe(`${name(30)}-1`);
    expect((await c.read(name(25), { version: 3 })).value).toBe(`${name(25)}-3`);
    expect((await c.read(name(25), { version: 2 })).value).toBe(`${name(25)}-2`);
    expect(await status(NEW)).toEqual([{ id: id(NEW), inRing: true, values: kept }]);
  });

  it('a worker whose ring opens neither the canary nor any record refuses to start, naming the variable', async () => {
    // keys rewrap with that ring moves nothing it cannot open and does not claim success.
    const stuck = await cli(['keys', 'rewrap'], { env: operatorEnv(OTHER) });
    expect(stuck.code).toBe(1);
    expect(stuck.stdout).toMatch(/: 0 moved, 0 already current, 0 skipped because they changed, \d+ failed/);
    expect(stuck.stderr).toContain(`failed: rot-svc/K0: stored record was sealed by key ${id(NEW)}, which is not in the keyring`);
    expect(stuck.stderr).toMatch(new RegExp(`error: not done: \\d+ under ${id(NEW)}`));
    const refused = await spawnWorker(ring(OTHER), { timeoutMs: 60_000 });
    expect(await refused.exited).toBe(1);
    expect(refused.output()).toMatch(/cannot open the data in Redis.*check SECRET_SVC_ENCRYPTION_KEYS and SECRET_SVC_REDIS_PREFIX/);
    // Without the canary, a record is the proof: refused all the same.
    const admin = new Redis(redis.url);
    try {
      expect(await admin.del('secret-svc:{s}:canary')).toBe(1);
    } finally {
      admin.disconnect();
    }
    const still = await spawnWorker(ring(OTHER), { timeoutMs: 60_000 });
    expect(await still.exited).toBe(1);
    expect(still.output()).toContain('check SECRET_SVC_ENCRYPTION_KEYS');
    expect(await status(NEW)).toEqual([{ id: id(NEW), inRing: true, values: (await status(NEW))[0]!.values }]);
  });
});
