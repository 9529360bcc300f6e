/**
 * Reads that arrive together share one read.lua call (src/store/read-batch.ts), and each
 * keeps its own outcome: a used nonce (earlier, or twice in the same call), an error Redis
 * raises for one of them, a revoked caller, a secret the caller may not read, one it cannot see, a missing one, a malformed
 * request, a reply over its budget, an old version, a session read — each gets what it
 * would get alone, and the others their values. Script calls are counted by Redis itself:
 * read.lua's calls through MONITOR (the worker's own polls run other scripts meanwhile), the
 * commands run inside scripts by INFO commandstats.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createConnection, type Socket } from 'node:net';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorFromBody, errorFromStatus, privateKeyObject } from '@secret-svc/protocol';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { LUA } from '../../src/store/lua.generated.js';
import { ReplyOverBudget, type SecretStore } from '../../src/store/secret-store.js';
import { openStore } from '../../src/worker.js';
import type { TestCaller } from '../helpers/identities.js';
import { RequestChannel } from '../helpers/session-manager.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { envelope, expectError, expectOk, request, send, type RawReply } from '../helpers/wire.js';

let stack: Stack;
let redis: Redis;
let owner: TestCaller;
let reader: TestCaller;
let revoked: TestCaller;
let monitor: Socket;
let readCallsSeen = 0;
const markers = new Map<string, () => void>();
const READ_SHA = createHash('sha1').update(LUA.read).digest('hex');
/** How MONITOR shows an EVAL of read.lua (its text, newlines escaped). */
const READ_EVAL = `"eval" "${LUA.read.split('\n', 2).join('\\n')}`;

/**
 * read.lua calls Redis has run so far (EVALSHA of its SHA1, or EVAL of its text when not
 * cached yet), as MONITOR reports them. Not all script calls: every worker also runs
 * changes.lua every 250 ms, which would land inside a count now and then. A marker sent
 * after the counted calls have settled comes back through MONITOR after them.
 */
async function scriptCalls(): Promise<number> {
  const marker = `rb-marker-${randomBytes(8).toString('hex')}`;
  const seen = new Promise<void>((resolve) => markers.set(marker, resolve));
  await redis.echo(marker);
  await seen;
  return readCallsSeen;
}

/** How often Redis ran these commands so far (inside scripts too). */
async function commandCalls<K extends string>(names: K[]): Promise<Record<K, number>> {
  const info = await redis.info('commandstats');
  return Object.fromEntries(names.map((n) => [n, Number(new RegExp(`^cmdstat_${n}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0)])) as Record<K, number>;
}

/**
 * MONITOR on a plain socket, its lines read as they come: ioredis' own monitor() lost track
 * of its replies under load ("Command queue state error").
 */
async function watchScriptCalls(url: string): Promise<void> {
  const { hostname, port } = new URL(url);
  monitor = createConnection({ host: hostname, port: Number(port) });
  let pending = '';
  let ready!: () => void;
  const started = new Promise<void>((resolve) => { ready = resolve; });
  monitor.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString('latin1')).split('\r\n');
    pending = lines.pop()!;
    for (const line of lines) {
      if (line === '+OK') ready();
      else if (line.includes(`"evalsha" "${READ_SHA}"`) || line.includes(READ_EVAL)) readCallsSeen++;
      else {
        const marker = /"echo" "(rb-marker-[0-9a-f]+)"$/.exec(line)?.[1];
        if (marker) {
          markers.get(marker)?.();
          markers.delete(marker);
        }
      }
    }
  });
  monitor.on('error', () => {});
  monitor.write('MONITOR\r\n');
  await started;
}

beforeAll(async () => {
  stack = await startStack();
  redis = stack.redisClient();
  owner = stack.issuer.caller('rb-own');
  reader = stack.issuer.caller('rb-read');
  revoked = stack.issuer.caller('rb-read');
  const admin = await stack.client(stack.issuer.caller('rb-admin', { admin: true }), 'json');
  const c = await stack.client(owner, 'msgpack');
  const lists = { readers: ['rb-own', 'rb-read'], writers: ['rb-own'], deleters: ['rb-own'] };
  for (let i = 0; i < 8; i++) await c.create(`rb-own/K${i}`, `value-${i}`, lists);
  await c.update('rb-own/K0', { value: 'value-0-v2' });
  // Visible to rb-read (a writer) but not readable by it: 403, not 404.
  await c.create('rb-own/W', 'write-only', { readers: ['rb-own'], writers: ['rb-own', 'rb-read'], deleters: ['rb-own'] });
  await c.create('rb-own/HIDDEN', 'not for rb-read');
  await admin.revoke({ keyId: revoked.key.x });
  // Every worker refuses it within a second of the reply (docs/protocol.md §10).
  await new Promise((r) => setTimeout(r, 1100));
  await watchScriptCalls(stack.redis.url);
});
afterAll(async () => {
  monitor?.destroy();
  await stack?.stop();
});

describe('reads in one script call keep their own outcomes (store)', () => {
  let store: SecretStore;
  let close: () => void;
  beforeAll(async () => {
    const opened = await openStore(loadConfig(stack.env), createLogger('silent'));
    store = opened.store;
    close = () => opened.redis.disconnect();
  });
  afterAll(() => close());

  const claim = (nonce = randomBytes(12).toString('hex')) => ({ callerKeyId: 'batch-test', nonce, ttlMs: 60_000, digest: '' });
  const me = { slug: 'rb-read', admin: false };

  it('one call: a nonce used before, one used twice in the call, missing, invisible, not readable, over budget, an old version, many keys', async () => {
    const used = claim();
    await store.read(used, me, ['rb-own/K1'], { budgetBytes: 0 });
    const twice = claim();
    const before = await scriptCalls();
    // All in the same turn of the event loop: the batcher sends them as one script call.
    const outcomes = await Promise.allSettled([
      store.read(claim(), me, ['rb-own/K1'], { budgetBytes: 0 }),
      store.read(used, me, ['rb-own/K2'], { budgetBytes: 0 }),
      store.read(twice, me, ['rb-own/K3'], { budgetBytes: 0 }),
      store.read(twice, me, ['rb-own/K3'], { budgetBytes: 0 }),
      store.read(claim(), me, ['rb-own/NONE'], { budgetBytes: 0 }),
      store.read(claim(), me, ['rb-own/HIDDEN'], { budgetBytes: 0 }),
      store.read(claim(), me, ['rb-own/W'], { budgetBytes: 0 }),
      store.read(claim(), me, ['rb-own/K4'], { budgetBytes: 10 }),
      store.read(claim(), me, ['rb-own/K0'], { budgetBytes: 0, version: 1 }),
      store.read(claim(), me, ['rb-own/K5', 'rb-own/NONE', 'rb-own/K6', 'rb-own/HIDDEN'], { budgetBytes: 0 }),
    ]);
    expect((await scriptCalls()) - before).toBe(1);

    const value = (i: number, k = 0) => {
      const o = outcomes[i]!;
      if (o.status !== 'fulfilled') throw new Error(`outcome ${i} failed: ${String(o.reason)}`);
      const r = o.value.records[k];
      return r?.sealed ? store.open(r.sealed) : r ? 'no value' : 'absent';
    };
    const reason = (i: number) => (outcomes[i]!.status === 'rejected' ? (outcomes[i] as PromiseRejectedResult).reason as Error : undefined);
    expect(value(0)).toBe('value-1');
    expect(reason(1)?.message).toBe('nonce has already been used');
    expect(value(2)).toBe('value-3');
    expect(reason(3)?.message).toBe('nonce has already been used');
    expect(value(4)).toBe('absent');
    expect(value(5)).toBe('absent');
    expect(value(6)).toBe('no value');
    expect(reason(7)).toBeInstanceOf(ReplyOverBudget);
    const old = (outcomes[8] as PromiseFulfilledResult<Awaited<ReturnType<SecretStore['read']>>>).value;
    expect(old.records[0]?.version).toBe(2);
    expect(store.open(old.old!.sealed)).toBe('value-0');
    expect([0, 1, 2, 3].map((k) => value(9, k))).toEqual(['value-5', 'absent', 'value-6', 'absent']);
  });

  it('an error Redis raises for one request fails that request alone', async () => {
    const name = `${stack.env.SECRET_SVC_REDIS_PREFIX ?? 'secret-svc:'}{s}:r:rb-own/NOT-A-HASH`;
    await redis.set(name, 'a string where a record hash belongs');
    const before = await scriptCalls();
    const [good, broken, after] = await Promise.allSettled([
      store.read(claim(), me, ['rb-own/K1'], { budgetBytes: 0 }),
      store.read(claim(), me, ['rb-own/NOT-A-HASH'], { budgetBytes: 0 }),
      store.read(claim(), me, ['rb-own/K2'], { budgetBytes: 0 }),
    ]);
    expect((await scriptCalls()) - before).toBe(1);
    expect(good.status === 'fulfilled' && store.open(good.value.records[0]!.sealed!)).toBe('value-1');
    expect(broken.status === 'rejected' && String(broken.reason)).toMatch(/read script failed: .*WRONGTYPE/);
    expect(after.status === 'fulfilled' && store.open(after.value.records[0]!.sealed!)).toBe('value-2');
  });

  it('a request that failed in Redis leaves its nonce unused', async () => {
    const name = `${stack.env.SECRET_SVC_REDIS_PREFIX ?? 'secret-svc:'}{s}:r:rb-own/NOT-A-HASH-2`;
    await redis.set(name, 'a string where a record hash belongs');
    const n = claim();
    await expect(store.read(n, me, ['rb-own/NOT-A-HASH-2'], { budgetBytes: 0 })).rejects.toThrow(/WRONGTYPE/);
    expect(store.open((await store.read(n, me, ['rb-own/K2'], { budgetBytes: 0 })).records[0]!.sealed!)).toBe('value-2');
  });

  it('a read over its budget claims nothing and fetches no value: the same nonce reads once the budget fits', async () => {
    const n = claim();
    const before = await commandCalls(['hmget', 'hstrlen', 'set']);
    await expect(store.read(n, me, ['rb-own/K4'], { budgetBytes: 10 })).rejects.toBeInstanceOf(ReplyOverBudget);
    // The record's head and its value's stored size only: no value, no claim.
    expect(await commandCalls(['hmget', 'hstrlen', 'set'])).toEqual({ hmget: before.hmget + 1, hstrlen: before.hstrlen + 1, set: before.set });
    const again = await store.read(n, me, ['rb-own/K4'], { budgetBytes: 0 });
    expect(store.open(again.records[0]!.sealed!)).toBe('value-4');
    await expect(store.read(n, me, ['rb-own/K4'], { budgetBytes: 0 })).rejects.toThrow('nonce has already been used');
  });

  it('a record altered in Redis after it was read (and remembered as verified) fails its check', async () => {
    const first = await store.read(claim(), me, ['rb-own/K7'], { budgetBytes: 0 });
    expect(store.open(first.records[0]!.sealed!)).toBe('value-7');
    const name = `${stack.env.SECRET_SVC_REDIS_PREFIX ?? 'secret-svc:'}{s}:r:rb-own/K7`;
    const lists = await redis.hget(name, 'a');
    await redis.hset(name, 'a', `${lists},rb-intruder`);
    try {
      await expect(store.read(claim(), { slug: 'rb-intruder', admin: false }, ['rb-own/K7'], { budgetBytes: 0 }))
        .rejects.toThrow('stored record failed its integrity check');
    } finally {
      await redis.hset(name, 'a', lists!);
    }
    expect(store.open((await store.read(claim(), me, ['rb-own/K7'], { budgetBytes: 0 })).records[0]!.sealed!)).toBe('value-7');
  });
});

describe('requests that arrive together at a worker keep their own replies', () => {
  it('a burst of good reads with a replay, a revoked caller, policy refusals, a missing key, a malformed request and session reads', async () => {
    const used = envelope(reader, request('read', { key: 'rb-own/K1' }), 'msgpack');
    expectOk(await send(stack.nc, 'secret.read', used), 'msgpack');
    const twice = envelope(reader, request('read', { key: 'rb-own/K2' }), 'json');
    const channel = new RequestChannel({
      identity: { credential: reader.credential, key: privateKeyObject(reader.key) }, encoding: 'msgpack', env: {},
      request: async (subject, body, timeoutMs) => {
        const r = await send(stack.nc, subject, body, timeoutMs);
        if (r.code !== undefined) throw errorFromBody(r.body) ?? errorFromStatus(Number(r.code), r.message ?? '');
        return r.body;
      },
    });
    // Opens the session before the burst.
    expect(await channel.call('read', { key: 'rb-own/K1' }, 10_000)).toMatchObject({ value: 'value-1' });

    const goods = [0, 1, 3, 4, 5, 6].map((i) => ({ i, body: envelope(reader, request('read', { key: `rb-own/K${i}` }), i % 2 ? 'json' : 'msgpack') }));
    const before = await scriptCalls();
    // Sent without waiting: nats.js writes them to the server together, and the worker takes them in one or a few turns.
    const [goodReplies, others, sessionReads] = await Promise.all([
      Promise.all(goods.map((g) => send(stack.nc, 'secret.read', g.body))),
      Promise.all([
        send(stack.nc, 'secret.read', used),
        send(stack.nc, 'secret.read', twice),
        send(stack.nc, 'secret.read', twice),
        send(stack.nc, 'secret.read', envelope(revoked, request('read', { key: 'rb-own/K1' }), 'json')),
        send(stack.nc, 'secret.read', envelope(reader, request('read', { key: 'rb-own/W' }), 'json')),
        send(stack.nc, 'secret.read', envelope(reader, request('read', { key: 'rb-own/HIDDEN' }), 'json')),
        send(stack.nc, 'secret.read', envelope(reader, request('read', { key: 'rb-own/NONE' }), 'json')),
        send(stack.nc, 'secret.read', envelope(reader, request('read', { key: 'Not A Key!' }), 'json')),
        send(stack.nc, 'secret.read', envelope(reader, request('read', { keys: ['rb-own/K5', 'rb-own/W', 'rb-own/HIDDEN'] }), 'msgpack')),
      ]),
      Promise.all([channel.call('read', { key: 'rb-own/K3' }, 10_000), channel.call('read', { keys: ['rb-own/K4', 'rb-own/NONE'] }, 10_000)]),
    ]);
    const calls = (await scriptCalls()) - before;

    for (const [n, reply] of goodReplies.entries()) {
      const { i, body } = goods[n]!;
      expect(expectOk(reply, body[0] === 0x7b ? 'json' : 'msgpack')).toMatchObject({ key: `rb-own/K${i}`, value: i === 0 ? 'value-0-v2' : `value-${i}` });
    }
    const [replayed, first, second, revokedReply, notReadable, hidden, missing, malformed, many] = others as RawReply[];
    expectError(replayed!, 401, 'msgpack');
    // The same bytes twice in one burst: exactly one of them reads.
    expect([first!, second!].map((r) => r.code ?? '200').sort()).toEqual(['200', '401']);
    expect([first!, second!].find((r) => !r.code)!.body).toMatchObject({ value: 'value-2' });
    expectError(revokedReply!, 401, 'json');
    expect(revokedReply!.message).toBe('credential has been revoked');
    expectError(notReadable!, 403, 'json');
    expectError(hidden!, 404, 'json');
    expectError(missing!, 404, 'json');
    expectError(malformed!, 400, 'json');
    expect(expectOk(many!, 'msgpack')).toMatchObject({
      secrets: [{ key: 'rb-own/K5', value: 'value-5' }], missing: ['rb-own/HIDDEN'], denied: ['rb-own/W'],
    });
    expect(sessionReads[0]).toMatchObject({ value: 'value-3' });
    expect(sessionReads[1]).toMatchObject({ secrets: [{ key: 'rb-own/K4', value: 'value-4' }], missing: ['rb-own/NONE'] });
    // 15 requests reached the store (the revoked, malformed, resent-before ones did not all):
    // the worker needed fewer script calls than requests.
    expect(calls).toBeLessThan(15);
  });
});
