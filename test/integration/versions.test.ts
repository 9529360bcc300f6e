/**
 * Versions (docs/protocol.md §9) and the record MAC (issue 9 item 4), through the real client.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.js';
import { call, expectError, request } from '../helpers/wire.js';

let stack: Stack;
let redis: Redis;
beforeAll(async () => {
  stack = await startStack({ extra: { SECRET_SVC_MAX_VERSIONS: '3' } });
  redis = stack.redisClient();
});
afterAll(async () => { await stack?.stop(); });

const recordKey = (key: string) => `secret-svc:{s}:r:${key}`;

describe('versions', () => {
  it('keeps the last 3 versions, lists-only updates included; reads an old one; 404 names a version not kept', async () => {
    const me = stack.issuer.caller('ver-svc');
    const c = await stack.client(me, 'msgpack');
    const key = 'ver-svc/DB';
    await c.create(key, 'v1-value');
    await c.update(key, { value: 'v2-value' });
    await c.update(key, { readers: ['ver-svc', 'other'] });
    await c.update(key, { value: 'v4-value' });
    const listed = await c.versions(key);
    expect(listed.key).toBe(key);
    expect(listed.versions.map((v) => v.version)).toEqual([4, 3, 2]);
    expect(listed.versions[0]!.updatedBy).toBe('ver-svc');
    const three = await c.read(key, { version: 3 });
    expect(three).toMatchObject({ value: 'v2-value', version: 3, readers: ['other', 'ver-svc'] });
    expect((await c.read(key, { version: 2 })).value).toBe('v2-value');
    expect((await c.read(key, { version: 4 })).value).toBe('v4-value');
    await expect(c.read(key, { version: 1 })).rejects.toMatchObject({ status: 404, message: expect.stringContaining('version 1') });
    await expect(c.read(key, { version: 9 })).rejects.toMatchObject({ status: 404, message: expect.stringContaining('version 9') });
  });

  it('404 for an invisible secret and 403 without the read right come before the version check', async () => {
    const owner = await stack.client(stack.issuer.caller('vo-svc'), 'json');
    await owner.create('vo-svc/K', 'x', { readers: ['vo-svc'], writers: ['vo-svc', 'vw-svc'], deleters: ['vo-svc'] });
    const writer = await stack.client(stack.issuer.caller('vw-svc'), 'json');
    const stranger = await stack.client(stack.issuer.caller('vs-svc'), 'json');
    await expect(writer.read('vo-svc/K', { version: 7 })).rejects.toMatchObject({ status: 403 });
    await expect(writer.versions('vo-svc/K')).rejects.toMatchObject({ status: 403 });
    await expect(stranger.read('vo-svc/K', { version: 7 })).rejects.toMatchObject({ status: 404 });
    await expect(stranger.versions('vo-svc/K')).rejects.toMatchObject({ status: 404 });
  });

  it('version with keys is 400; delete removes all versions; a re-created key starts at 1', async () => {
    const me = stack.issuer.caller('vd-svc');
    const c = await stack.client(me, 'json');
    expectError(await call(stack.nc, me, request('read', { keys: ['vd-svc/A'], version: 1 }), 'json'), 400, 'json');
    await c.create('vd-svc/A', 'first');
    await c.update('vd-svc/A', { value: 'second' });
    const oldH1 = await redis.hgetBuffer(recordKey('vd-svc/A'), 'h1');
    const oldB1 = await redis.hgetBuffer(recordKey('vd-svc/A'), 'b1');
    await c.delete('vd-svc/A');
    expect(await redis.exists(recordKey('vd-svc/A'))).toBe(0);
    expect((await c.create('vd-svc/A', 'again')).version).toBe(1);
    await c.update('vd-svc/A', { value: 'again 2' });
    expect((await c.versions('vd-svc/A')).versions.map((v) => v.version)).toEqual([2, 1]);
    // A copy of version 1 from before the delete does not open under the new identity.
    await redis.hset(recordKey('vd-svc/A'), 'h1', oldH1!, 'b1', oldB1!);
    await expect(c.read('vd-svc/A', { version: 1 })).rejects.toMatchObject({ status: 500 });
    expect((await c.read('vd-svc/A')).value).toBe('again 2');
  });
});

describe('record MAC', () => {
  it('lists edited in Redis, then a value written through the service, then put back: 500, never the value', async () => {
    const owner = await stack.client(stack.issuer.caller('mac-svc'), 'json');
    const mallory = await stack.client(stack.issuer.caller('mallory'), 'json');
    const key = 'mac-svc/DB_PASSWORD';
    await owner.create(key, 'genuine');
    const hash = recordKey(key);
    const saved = await redis.hgetall(hash);
    await redis.hset(hash, 'a', 'mac-svc|mac-svc,mallory|mac-svc');
    // The edited record fails its MAC: mallory cannot even reach the update.
    await expect(mallory.update(key, { value: 'attacker' })).rejects.toMatchObject({ status: 500 });
    await redis.hset(hash, 'a', saved.a!);
    expect((await owner.read(key)).value).toBe('genuine');
    // A version number or stamp edited in Redis fails too.
    await redis.hset(hash, 'v', '5');
    await expect(owner.read(key)).rejects.toMatchObject({ status: 500 });
    await redis.hset(hash, 'v', saved.v!);
    await redis.hset(hash, 'c', `${saved.c!.split(' ')[0]} mallory`);
    await expect(owner.list({ prefix: 'mac-svc/' })).rejects.toMatchObject({ status: 500 });
    await redis.hset(hash, 'c', saved.c!);
    expect((await owner.read(key)).value).toBe('genuine');
  });
});

describe('memory', () => {
  it('an old version of a small secret costs at most its sealed value + 80 bytes', async () => {
    const c = await stack.client(stack.issuer.caller('mem-svc'), 'msgpack');
    const key = 'mem-svc/SMALL';
    const value = 'p'.repeat(16);
    await c.create(key, value);
    const one = (await redis.memory('USAGE', recordKey(key), 'SAMPLES', '0'))!;
    await c.update(key, { value });
    await c.update(key, { value });
    const three = (await redis.memory('USAGE', recordKey(key), 'SAMPLES', '0'))!;
    expect(await redis.object('ENCODING', recordKey(key))).toBe('listpack');
    const sealedBytes = 45 + Buffer.byteLength(value);
    expect((three - one) / 2).toBeLessThanOrEqual(sealedBytes + 80);
  });
});
