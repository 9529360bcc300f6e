/**
 * Service discovery (docs/protocol.md §1): the `secret-svc` micro service answers $SRV.PING,
 * $SRV.INFO and $SRV.STATS with one endpoint per operation in the queue group, and its
 * stats count what happened. Also: a custom subject prefix and audience are honoured.
 */
import { RequestStrategy, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPS } from '@secret-svc/protocol';
import { startStack, type Stack } from '../helpers/stack.js';
import { call, expectError, expectOk, handBuiltJsonEnvelope, request, send } from '../helpers/wire.js';

async function srv(nc: NatsConnection, subject: string): Promise<any> {
  const msg = await nc.request(subject, new Uint8Array(0), { timeout: 5000 });
  return JSON.parse(Buffer.from(msg.data).toString('utf8'));
}

interface EndpointStats {
  name: string; subject: string; queue_group: string; num_requests: number; num_errors: number;
  processing_time: number; average_processing_time: number;
}

describe('$SRV discovery and stats', () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack(); });
  afterAll(async () => { await stack?.stop(); });

  it('PING: name secret-svc, with an id and a version', async () => {
    for (const subject of ['$SRV.PING.secret-svc', '$SRV.PING']) {
      const ping = await srv(stack.nc, subject);
      expect(ping).toMatchObject({ type: 'io.nats.micro.v1.ping_response', name: 'secret-svc' });
      expect(typeof ping.id).toBe('string');
      expect(ping.id.length).toBeGreaterThan(0);
      expect(typeof ping.version).toBe('string');
    }
  });

  it('INFO: one endpoint per op, subject secret.<op>, queue group secret-svc', async () => {
    const info = await srv(stack.nc, '$SRV.INFO.secret-svc');
    expect(info).toMatchObject({ type: 'io.nats.micro.v1.info_response', name: 'secret-svc', metadata: { protocol: 'secret-svc/v1.2' } });
    const endpoints = (info.endpoints as { name: string; subject: string; queue_group: string }[])
      .map(({ name, subject, queue_group }) => ({ name, subject, queue_group }))
      .sort((x, y) => x.name.localeCompare(y.name));
    expect(endpoints).toEqual([...OPS].sort().map((op) => ({ name: op, subject: `secret.${op}`, queue_group: 'secret-svc' })));
    // Addressable by id as well.
    expect(await srv(stack.nc, `$SRV.INFO.secret-svc.${info.id}`)).toMatchObject({ id: info.id, name: 'secret-svc' });
  });

  it('STATS: requests and error replies counted per endpoint; durations integer nanoseconds > 0', async () => {
    const me = stack.issuer.caller('disc');
    const before = await srv(stack.nc, '$SRV.STATS.secret-svc');
    expect(before.type).toBe('io.nats.micro.v1.stats_response');
    for (const e of before.endpoints as EndpointStats[]) expect([e.num_requests, e.num_errors]).toEqual([0, 0]);

    for (let i = 0; i < 3; i++) expectOk(await call(stack.nc, me, request('whoami'), 'json'), 'json');
    expectOk(await call(stack.nc, me, request('create', { key: 'disc/a', value: 'v' }), 'msgpack'), 'msgpack');
    expectError(await call(stack.nc, me, request('create', { key: 'disc/a', value: 'v' }), 'msgpack'), 409, 'msgpack');
    expectOk(await call(stack.nc, me, request('read', { key: 'disc/a' }), 'json'), 'json');
    expectOk(await call(stack.nc, me, request('read', { keys: ['disc/a', 'disc/b'] }), 'msgpack'), 'msgpack');
    expectError(await call(stack.nc, me, request('read', { key: 'disc/b' }), 'json'), 404, 'json');
    expectError(await send(stack.nc, 'secret.read', Buffer.from('garbage')), 400, 'json');
    expectError(await call(stack.nc, me, request('read', { key: 'disc/a' }, { aud: 'nope' }), 'json'), 401, 'json');

    const after = await srv(stack.nc, '$SRV.STATS.secret-svc');
    expect(after).toMatchObject({ type: 'io.nats.micro.v1.stats_response', name: 'secret-svc', id: before.id });
    // The rest of the io.nats.micro.v1.stats_response shape.
    expect(after.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(new Date(after.started).toISOString()).toBe(after.started.replace(/(\.\d{3})\d*Z$/, '$1Z'));
    for (const e of after.endpoints as Record<string, unknown>[]) {
      for (const field of ['name', 'subject', 'queue_group', 'last_error']) expect(typeof e[field], field).toBe('string');
      for (const field of ['num_requests', 'num_errors', 'processing_time', 'average_processing_time']) {
        expect(Number.isInteger(e[field]), field).toBe(true);
        expect(e[field] as number).toBeGreaterThanOrEqual(0);
      }
    }
    const byName = new Map((after.endpoints as EndpointStats[]).map((e) => [e.name, e]));
    expect([...byName.keys()].sort()).toEqual([...OPS].sort());
    const counts = Object.fromEntries(OPS.map((op) => [op, [byName.get(op)!.num_requests, byName.get(op)!.num_errors]]));
    expect(counts).toEqual({
      whoami: [3, 0], create: [2, 1], read: [5, 3], list: [0, 0], update: [0, 0], delete: [0, 0], versions: [0, 0],
      revoke: [0, 0], unrevoke: [0, 0], revocations: [0, 0], session: [0, 0], watch: [0, 0],
    });
    // The endpoint's data (the public statsHandler): replies by status, and nothing left in flight.
    expect((after.endpoints as { name: string; data: unknown }[]).find((e) => e.name === 'read')!.data)
      .toEqual({ replies_by_status: { 200: 2, 400: 1, 401: 1, 404: 1 }, in_flight: 0 });
    for (const op of OPS) {
      const e = byName.get(op)!;
      expect({ subject: e.subject, queue_group: e.queue_group }).toEqual({ subject: `secret.${op}`, queue_group: 'secret-svc' });
      expect(Number.isInteger(e.processing_time)).toBe(true);
      expect(Number.isInteger(e.average_processing_time)).toBe(true);
      if (e.num_requests > 0) {
        expect(e.processing_time).toBeGreaterThan(0);
        expect(e.average_processing_time).toBeGreaterThan(0);
        expect(e.average_processing_time).toBeLessThanOrEqual(e.processing_time);
      } else {
        expect([e.processing_time, e.average_processing_time]).toEqual([0, 0]);
      }
    }
  });

  it('two workers: PING gets one reply from each, with distinct ids', async () => {
    await stack.addWorker();
    const replies: { name: string; id: string }[] = [];
    const many = await stack.nc.requestMany('$SRV.PING.secret-svc', new Uint8Array(0), { strategy: RequestStrategy.Count, maxMessages: 2, maxWait: 5000 });
    for await (const m of many) replies.push(JSON.parse(Buffer.from(m.data).toString('utf8')));
    expect(replies.map((r) => r.name)).toEqual(['secret-svc', 'secret-svc']);
    expect(new Set(replies.map((r) => r.id)).size).toBe(2);
  });
});

describe('custom SECRET_SVC_SUBJECT_PREFIX, SECRET_SVC_AUDIENCE (and SECRET_SVC_QUEUE)', () => {
  const PREFIX = 'vault.v1';
  const AUD = 'vault-prod';
  let stack: Stack;
  beforeAll(async () => { stack = await startStack({ extra: { SECRET_SVC_SUBJECT_PREFIX: PREFIX, SECRET_SVC_AUDIENCE: AUD, SECRET_SVC_QUEUE: 'vault-workers' } }); });
  afterAll(async () => { await stack?.stop(); });

  it('serves <prefix>.<op> and lists those subjects in INFO', async () => {
    const info = await srv(stack.nc, '$SRV.INFO.secret-svc');
    const endpoints = (info.endpoints as { name: string; subject: string; queue_group: string }[])
      .map(({ name, subject, queue_group }) => ({ name, subject, queue_group }))
      .sort((x, y) => x.name.localeCompare(y.name));
    expect(endpoints).toEqual([...OPS].sort().map((op) => ({ name: op, subject: `${PREFIX}.${op}`, queue_group: 'vault-workers' })));
  });

  it('the client configured with the prefix and audience works end to end', async () => {
    const me = stack.issuer.caller('cust');
    for (const encoding of ['json', 'msgpack'] as const) {
      const c = await stack.client(me, encoding, { subjectPrefix: PREFIX, audience: AUD });
      await c.create(`cust/${encoding}`, 'custom');
      expect(await c.read(`cust/${encoding}`)).toMatchObject({ value: 'custom', version: 1 });
    }
  });

  it('a hand-built envelope with the custom aud is served on the custom subject', async () => {
    const me = stack.issuer.caller('cust2');
    const body = handBuiltJsonEnvelope(me, { op: 'whoami', aud: AUD, ts: Date.now(), nonce: 'custom-nonce-0123456789' });
    expect(expectOk(await send(stack.nc, `${PREFIX}.whoami`, body), 'json')).toMatchObject({ slug: 'cust2' });
  });

  it('the default audience is refused (401) and the default subjects have no responders', async () => {
    const me = stack.issuer.caller('cust3');
    for (const encoding of ['json', 'msgpack'] as const) {
      expectError(await call(stack.nc, me, request('whoami', {}, { aud: 'secret-svc' }), encoding, { prefix: PREFIX }), 401, encoding);
      expectOk(await call(stack.nc, me, request('whoami', {}, { aud: AUD }), encoding, { prefix: PREFIX }), encoding);
    }
    await expect(call(stack.nc, me, request('whoami', {}, { aud: AUD }), 'json')).rejects.toMatchObject({ code: '503' });
  });
});
