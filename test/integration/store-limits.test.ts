/**
 * The store's limits (issue 9): a batch read over the reply limit is refused from the
 * stored sizes (413) before anything is opened; an evicting Redis is refused at start
 * (where CONFIG is renamed away, a loud warning instead); version bounds on the wire.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { checkEviction, EvictionPolicyError } from '../../src/store/eviction.js';
import { openStore } from '../../src/worker.js';
import { RedisServer } from '../helpers/servers.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { call, expectError, request } from '../helpers/wire.js';

let stack: Stack;
const servers: RedisServer[] = [];
beforeAll(async () => { stack = await startStack(); });
afterAll(async () => {
  await stack?.stop();
  await Promise.all(servers.map((s) => s.cleanup()));
});

describe('batch reads', () => {
  it('values totalling more than the bus takes: 413 from the stored sizes; fewer keys still read', async () => {
    const me = stack.issuer.caller('big-svc');
    const c = await stack.client(me, 'msgpack');
    const keys = Array.from({ length: 20 }, (_, i) => `big-svc/K${i}`);
    for (const k of keys) await c.create(k, 'x'.repeat(65_536));
    const reply = await call(stack.nc, me, request('read', { keys }), 'json');
    expectError(reply, 413, 'json');
    expect(reply.message).toMatch(/the values asked for total about \d+ bytes/);
    expect((await c.readMany(keys.slice(0, 4))).secrets).toHaveLength(4);
  });
});

describe('visibility pre-filter in the read script', () => {
  it('an invisible secret comes back as absent, and a value only to a caller with the read right', async () => {
    const owner = await stack.client(stack.issuer.caller('pf-svc'), 'json');
    await owner.create('pf-svc/K', 'pre-filtered', { readers: ['pf-svc'], writers: ['pf-svc', 'pf-writer'], deleters: ['pf-svc'] });
    const { store, redis } = await openStore(loadConfig(stack.env), createLogger('silent'));
    try {
      const nonce = () => ({ callerKeyId: 'test', nonce: randomBytes(12).toString('hex'), ttlMs: 60_000, digest: '' });
      const read = async (slug: string) => (await store.read(nonce(), { slug, admin: false }, ['pf-svc/K'], { budgetBytes: 0 })).records[0];
      expect(await read('pf-stranger')).toBeUndefined();
      const writerView = await read('pf-writer');
      expect(writerView?.version).toBe(1);
      expect(writerView?.sealed).toBeUndefined();
      const ownerView = (await read('pf-svc'))!;
      expect(store.open(ownerView.sealed!)).toBe('pre-filtered');
    } finally {
      redis.disconnect();
    }
  });
});

describe('version on the wire', () => {
  it.each([0, -1, 1.5, '2'])('read version %s is 400', async (version) => {
    const me = stack.issuer.caller('vb-svc');
    expectError(await call(stack.nc, me, request('read', { key: 'vb-svc/A', version }), 'json'), 400, 'json');
  });

  it('versions with an unknown field is 400', async () => {
    const me = stack.issuer.caller('vb-svc');
    expectError(await call(stack.nc, me, request('versions', { key: 'vb-svc/A', version: 1 }), 'json'), 400, 'json');
  });
});

describe('maxmemory-policy', () => {
  async function check(extra: string[]): Promise<string | undefined> {
    const server = await RedisServer.start(extra);
    servers.push(server);
    const redis = new Redis(server.url);
    try {
      return await checkEviction(redis);
    } finally {
      redis.disconnect();
    }
  }

  it('noeviction passes; an evicting policy refuses; CONFIG not allowed warns loudly', async () => {
    expect(await check([])).toBeUndefined();
    await expect(check(['--maxmemory-policy', 'allkeys-lru'])).rejects.toThrow(EvictionPolicyError);
    await expect(check(['--maxmemory-policy', 'volatile-ttl'])).rejects.toThrow(/must be noeviction/);
    expect(await check(['--rename-command', 'CONFIG', '""'])).toMatch(/COULD NOT CHECK Redis maxmemory-policy/);
  });
});
