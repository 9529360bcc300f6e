/**
 * Storage guarantees (docs/protocol.md §6), observed in Redis: no plaintext value anywhere,
 * every key under SECRET_SVC_REDIS_PREFIX, and a record copied or altered in Redis answers
 * 500 (never a value).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecretClient } from '@secret-svc/client';
import type { TestCaller } from '../helpers/identities.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { call, ENCODINGS, expectError, request } from '../helpers/wire.js';

const PREFIX = 'itest-store:';

let stack: Stack;
let redis: Redis;
beforeAll(async () => {
  stack = await startStack({ extra: { SECRET_SVC_REDIS_PREFIX: PREFIX } });
  redis = stack.redisClient();
});
afterAll(async () => { await stack?.stop(); });

/** Every key in the database with everything it holds, as raw bytes. */
async function dumpAll(): Promise<{ key: string; parts: Buffer[] }[]> {
  const out: { key: string; parts: Buffer[] }[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scanBuffer(cursor, 'COUNT', 500);
    cursor = next.toString();
    for (const k of keys) {
      const type = await redis.type(k);
      let parts: Buffer[];
      switch (type) {
        case 'string': parts = [(await redis.getBuffer(k))!]; break;
        case 'hash': parts = Object.entries(await redis.hgetallBuffer(k)).flatMap(([f, v]) => [Buffer.from(f), v]); break;
        case 'zset': parts = await redis.zrangeBuffer(k, 0, -1, 'WITHSCORES'); break;
        case 'set': parts = await redis.smembersBuffer(k); break;
        case 'list': parts = await redis.lrangeBuffer(k, 0, -1); break;
        case 'stream': parts = [Buffer.from(JSON.stringify(await redis.xrange(k, '-', '+')))]; break;
        default: throw new Error(`unexpected Redis type ${type} for key ${k.toString()}`);
      }
      out.push({ key: k.toString('latin1'), parts: [k, ...parts] });
    }
  } while (cursor !== '0');
  return out;
}

/** The forms a leaked value could take: raw UTF-8, base64, base64url, hex. */
function leakForms(value: string): Buffer[] {
  const raw = Buffer.from(value, 'utf8');
  return [raw, Buffer.from(raw.toString('base64')), Buffer.from(raw.toString('base64url')), Buffer.from(raw.toString('hex'))];
}

async function recordKeyOf(key: string): Promise<string> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 500);
    cursor = next;
    found.push(...keys.filter((k) => k.endsWith(`:r:${key}`)));
  } while (cursor !== '0');
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe('plaintext never at rest', () => {
  it('no written value (current, old, deleted, refused) appears in any Redis key or field', async () => {
    const values: string[] = [];
    const mark = (label: string) => {
      const v = `PLAINTEXT-${label}-${randomBytes(12).toString('hex')}`;
      values.push(v);
      return v;
    };
    for (const encoding of ENCODINGS) {
      const slug = `st-${encoding}`;
      const me = stack.issuer.caller(slug);
      const c = await stack.client(me, encoding);
      await c.create(`${slug}/kept`, mark('kept'));
      await c.create(`${slug}/updated`, mark('old'));
      await c.update(`${slug}/updated`, { value: mark('new') });
      await c.update(`${slug}/updated`, { readers: [slug, 'someone'] }); // re-sealed under new lists
      await c.create(`${slug}/deleted`, mark('deleted'));
      await c.delete(`${slug}/deleted`);
      await expect(c.create(`${slug}/kept`, mark('refused'))).rejects.toMatchObject({ status: 409 });
      await c.create(`${slug}/unicode`, `${mark('uni')}-ünïcødé-秘密`);
      await c.readMany([`${slug}/kept`, `${slug}/updated`, `${slug}/unicode`]);
      await c.list({ prefix: slug });
    }
    const dump = await dumpAll();
    expect(dump.length).toBeGreaterThan(0);
    // The records exist (so the scan saw real data) ...
    expect(dump.filter((d) => d.key.endsWith(':r:st-json/kept') || d.key.endsWith(':r:st-msgpack/kept'))).toHaveLength(2);
    // ... and none of them, nor any other key, holds a value in any plain form.
    for (const { key, parts } of dump) {
      for (const part of parts) {
        for (const v of values) {
          for (const form of leakForms(v)) expect(part.includes(form), `value found in ${key}`).toBe(false);
        }
        // The unicode suffix alone too.
        expect(part.includes(Buffer.from('秘密'))).toBe(false);
      }
    }
  });

  it('every Redis key starts with SECRET_SVC_REDIS_PREFIX, and only db 0 is used', async () => {
    const dump = await dumpAll();
    expect(dump.length).toBeGreaterThan(3);
    for (const { key } of dump) expect(key.startsWith(PREFIX), key).toBe(true);
    const keyspace = await redis.info('keyspace');
    expect(keyspace.match(/^db\d+:/gm)).toEqual(['db0:']);
  });
});

describe.each(ENCODINGS)('tampered records give 500, never a value (%s)', (encoding) => {
  const slug = `tm-${encoding}`;
  let me: TestCaller; let c: SecretClient;
  const values = { alpha: `ALPHA-${randomBytes(8).toString('hex')}`, beta: `BETA-${randomBytes(8).toString('hex')}`, gamma: `GAMMA-${randomBytes(8).toString('hex')}` };

  const expect500WithoutValues = async (req: Record<string, unknown>, caller = me) => {
    const reply = await call(stack.nc, caller, req, encoding);
    expectError(reply, 500, encoding);
    const text = Buffer.from(reply.data).toString('latin1') + (reply.message ?? '');
    for (const v of Object.values(values)) expect(text.includes(v)).toBe(false);
  };

  beforeAll(async () => {
    me = stack.issuer.caller(slug);
    c = await stack.client(me, encoding);
    await c.create(`${slug}/alpha`, values.alpha);
    await c.create(`${slug}/beta`, values.beta);
    await c.create(`${slug}/gamma`, values.gamma);
    await c.create(`${slug}/delta`, 'delta');
  });

  it('a sealed value copied to another secret\'s record', async () => {
    const from = await recordKeyOf(`${slug}/alpha`);
    const to = await recordKeyOf(`${slug}/beta`);
    // The whole sealed value: header (h: key id, nonce) and box (b).
    const [header, box] = await redis.hmgetBuffer(from, 'h1', 'b1');
    expect(header).not.toBeNull();
    expect(box).not.toBeNull();
    await redis.hset(to, 'h1', header!, 'b1', box!);
    await expect500WithoutValues(request('read', { key: `${slug}/beta` }));
    await expect500WithoutValues(request('read', { keys: [`${slug}/alpha`, `${slug}/beta`] }));
    // The source is untouched and still reads.
    expect((await c.read(`${slug}/alpha`)).value).toBe(values.alpha);
  });

  it('a flipped byte in a sealed value', async () => {
    const record = await recordKeyOf(`${slug}/gamma`);
    for (const field of ['h1', 'b1']) {
      const sealed = (await redis.hgetBuffer(record, field))!;
      for (const at of [sealed.length - 1, Math.floor(sealed.length / 2), 0]) {
        const altered = Buffer.from(sealed);
        altered[at] = altered[at]! ^ 0x20;
        await redis.hset(record, field, altered);
        await expect500WithoutValues(request('read', { key: `${slug}/gamma` }));
      }
      await redis.hset(record, field, sealed);
    }
    expect((await c.read(`${slug}/gamma`)).value).toBe(values.gamma);
  });

  it('lists edited in Redis (an intruder added as reader) do not open the value', async () => {
    const record = await recordKeyOf(`${slug}/delta`);
    const intruder = stack.issuer.caller(`intruder-${encoding}`);
    const lists = (await redis.hget(record, 'a'))!;
    // Stored compactly: one list when readers, writers and deleters are equal.
    expect(lists).toBe(slug);
    await redis.hset(record, 'a', `${intruder.slug},${slug}|${slug}|${slug}`);
    expect(await redis.hget(record, 'a')).not.toBe(lists);
    await expect500WithoutValues(request('read', { key: `${slug}/delta` }), intruder);
    await expect500WithoutValues(request('read', { key: `${slug}/delta` }));
  });
});
