/**
 * A retried write applies once (docs/protocol.md §3 Retries): the identical envelope sent again
 * gets the first attempt's reply, whatever it was, and changes nothing; a repeated read
 * envelope, or a nonce reused with other bytes, gets 401.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import type { Redis } from 'ioredis';
import { SecretClient } from '@secret-svc/client';
import { buildEnvelope, privateKeyObject, requestHead, type Encoding } from '@secret-svc/protocol';
import { TestIssuer } from '../helpers/identities.js';
import { NatsServer, RedisServer } from '../helpers/servers.js';
import { startTestWorker, testEnv } from '../helpers/worker.js';
import { adminRedis, rawRequest, signed, type Reply } from './support.js';

const ENCODINGS: Encoding[] = ['msgpack', 'json'];

describe('a retried write applies once', { timeout: 60_000 }, () => {
  let nats: NatsServer;
  let redis: RedisServer;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;
  let nc: NatsConnection;
  let admin: Redis;
  const issuer = new TestIssuer();
  const owner = issuer.caller('retry-svc');
  const other = issuer.caller('other-svc');
  const root = issuer.caller('root', { admin: true });
  let ownerClient: SecretClient;

  const send = (op: string, body: Uint8Array): Promise<Reply> => rawRequest(nc, `secret.${op}`, body);
  const current = async (key: string) => {
    try {
      return await ownerClient.read(key);
    } catch (err) {
      if ((err as { status?: number }).status === 404) return undefined;
      throw err;
    }
  };

  beforeAll(async () => {
    [nats, redis] = await Promise.all([NatsServer.start(), RedisServer.start()]);
    worker = await startTestWorker(testEnv({ natsUrl: nats.url, redisUrl: redis.url, issuers: [issuer.publicKey] }));
    nc = await connect({ servers: nats.url, noAsyncTraces: true });
    admin = adminRedis(redis.url);
    ownerClient = await SecretClient.connect({ nc, credential: owner.credential, key: owner.key, retries: 0 });
  });

  afterAll(async () => {
    admin?.disconnect();
    await nc?.close();
    await worker?.stop();
    await nats?.stop();
    await redis?.cleanup();
  });

  it.each(ENCODINGS)('create, update and delete resent as identical bytes (%s): first reply again, applied once', async (encoding) => {
    const key = `retry-svc/A-${encoding}`;
    const create = signed(owner, 'create', { key, value: 'one' }, encoding);
    const first = await send('create', create);
    const again = await send('create', create);
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(await current(key)).toMatchObject({ version: 1, value: 'one' });

    const update = signed(owner, 'update', { key, value: 'two' }, encoding);
    const u1 = await send('update', update);
    const u2 = await send('update', update);
    const u3 = await send('update', update);
    expect(u1).toMatchObject({ status: 200, body: { version: 2 } });
    expect(u2.body).toEqual(u1.body);
    expect(u3.body).toEqual(u1.body);
    expect(await current(key)).toMatchObject({ version: 2, value: 'two' });

    const del = signed(owner, 'delete', { key }, encoding);
    const d1 = await send('delete', del);
    const d2 = await send('delete', del);
    expect(d1).toMatchObject({ status: 200, body: { key, deleted: true } });
    expect(d2).toMatchObject({ status: 200, body: { key, deleted: true } }); // not 404: the first reply
    expect(await current(key)).toBeUndefined();
    console.log(`${encoding}: create sent 2 / applied 1, update sent 3 / applied 1, delete sent 2 / applied 1`);
  });

  it('a refused write stays refused when resent, even after the state changed', async () => {
    const key = 'retry-svc/B';
    await ownerClient.create(key, 'kept');
    // 409 is the first outcome; after the key is gone, the same envelope still answers 409 and creates nothing.
    const create = signed(owner, 'create', { key, value: 'new' }, 'msgpack');
    const c1 = await send('create', create);
    expect(c1.status).toBe(409);
    await ownerClient.delete(key);
    const c2 = await send('create', create);
    expect(c2.status).toBe(409);
    expect(c2.body).toEqual(c1.body);
    expect(await current(key)).toBeUndefined();

    // 403 is the first outcome; after the caller becomes a writer, the resend is still 403 and changes nothing.
    const shared = 'retry-svc/C';
    await ownerClient.create(shared, 'v1', { readers: ['retry-svc', 'other-svc'] });
    const update = signed(other, 'update', { key: shared, value: 'hijack' }, 'json');
    const r1 = await send('update', update);
    expect(r1.status).toBe(403);
    await ownerClient.update(shared, { writers: ['retry-svc', 'other-svc'] });
    const r2 = await send('update', update);
    expect(r2.status).toBe(403);
    expect(r2.body).toEqual(r1.body);
    expect(await current(shared)).toMatchObject({ version: 2, value: 'v1' });
  });

  it('the same envelope sent many times at once applies once', async () => {
    const key = 'retry-svc/D';
    await ownerClient.create(key, 'v1');
    const update = signed(owner, 'update', { key, value: 'v2' }, 'msgpack');
    const replies = await Promise.all(Array.from({ length: 20 }, () => send('update', update)));
    const ok = replies.filter((r) => r.status === 200);
    // A resend racing the first attempt may get 401; every success is the one outcome.
    expect(replies.every((r) => r.status === 200 || r.status === 401)).toBe(true);
    expect(ok.length).toBeGreaterThan(0);
    for (const r of ok) expect(r.body).toMatchObject({ version: 2 });
    expect(await current(key)).toMatchObject({ version: 2, value: 'v2' });
    console.log(`identical update sent 20 at once: ${ok.length} × 200 (version 2), ${replies.length - ok.length} × 401; applied 1`);
  });

  it.each(ENCODINGS)('a repeated read, list or whoami envelope gets 401 (%s)', async (encoding) => {
    const key = `retry-svc/R-${encoding}`;
    await ownerClient.create(key, 'r');
    for (const [op, fields] of [['read', { key }], ['read', { keys: [key] }], ['list', {}], ['whoami', {}]] as const) {
      const body = signed(owner, op, fields, encoding);
      expect((await send(op, body)).status).toBe(200);
      const replay = await send(op, body);
      expect(replay.status).toBe(401);
      expect(replay.body).toMatchObject({ error: { status: 401, code: 'unauthenticated' } });
    }
  });

  it('a nonce reused with different bytes gets 401 and changes nothing', async () => {
    const key = 'retry-svc/E';
    await ownerClient.create(key, 'v1');
    const head = requestHead('update', 'secret-svc');
    const sign = (value: string) => buildEnvelope(owner.credential, privateKeyObject(owner.key), { ...head, key, value }, 'json');
    expect((await send('update', sign('v2'))).status).toBe(200);
    const reused = await send('update', sign('v3'));
    expect(reused.status).toBe(401);
    expect(await current(key)).toMatchObject({ version: 2, value: 'v2' });
    // And across callers nonces are separate: the administrator may use the same nonce text.
    const adminBody = buildEnvelope(root.credential, privateKeyObject(root.key), { ...head, key, value: 'v3' }, 'json');
    expect((await send('update', adminBody)).status).toBe(200);
    expect(await current(key)).toMatchObject({ version: 3, value: 'v3' });
  });

  it('SecretClient times out on a slowed worker, resends the identical envelope, and the write applies once', async () => {
    const key = 'retry-svc/SLOW';
    await ownerClient.create(key, 'v1');
    const hasty = await SecretClient.connect({
      nc, credential: owner.credential, key: owner.key, encoding: 'msgpack', timeoutMs: 30_000, attemptTimeoutMs: 150, retries: 10, retryDelayMs: 100,
    });
    // Every update delivery, seen by a plain subscriber: resends must be the same bytes.
    const bodies: string[] = [];
    const spy = nc.subscribe('secret.update', { callback: (_e, m) => bodies.push(Buffer.from(m.data).toString('base64')) });
    await nc.flush();

    await hasty.read(key); // the session is open before Redis pauses (its handshake claims a nonce too)
    // Redis stops answering every client for 1 s: the worker holds the request, the client times out.
    await admin.call('CLIENT', 'PAUSE', '1000', 'ALL');
    const meta = await hasty.update(key, { value: 'v2' });
    await nc.flush();
    spy.unsubscribe();

    const stored = await current(key);
    console.log(`update attempts sent ${bodies.length} (distinct bodies ${new Set(bodies).size}) / applied ${stored!.version - 1}; reply version ${meta.version}`);
    expect(bodies.length).toBeGreaterThan(1);
    expect(new Set(bodies).size).toBe(1);
    expect(meta.version).toBe(2);
    expect(stored).toMatchObject({ version: 2, value: 'v2' });
  });
});
