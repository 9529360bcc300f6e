/** Replies that would not fit on the bus, and work beyond a worker's bounds: an error reply, never silence. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TooLargeError } from '@secret-svc/protocol';
import type { TestCaller } from '../helpers/identities.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { ENCODINGS, envelope, expectError, expectOk, request, send } from '../helpers/wire.js';

let stack: Stack;
beforeAll(async () => { stack = await startStack(); });
afterAll(async () => { await stack?.stop(); });

describe.each(ENCODINGS)('a reply over the NATS max_payload (%s)', (encoding) => {
  it('gets 413 too_large naming the limit, and smaller reads still work', async () => {
    const c = await stack.client(stack.issuer.caller(`big-${encoding}`), encoding);
    const keys = Array.from({ length: 20 }, (_, i) => `big-${encoding}/K${i}`);
    const value = 'v'.repeat(65_536); // the largest value allowed by default
    for (const key of keys) await c.create(key, value);
    const maxPayload = stack.worker.nc.info!.max_payload;
    expect(20 * value.length).toBeGreaterThan(maxPayload);

    const err = await c.readMany(keys).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TooLargeError);
    expect((err as TooLargeError).message).toContain(String(maxPayload));
    expect((err as TooLargeError).message).not.toContain(value.slice(0, 64));

    const some = await c.readMany(keys.slice(0, 5));
    expect(some.secrets.map((s) => s.value.length)).toEqual([65_536, 65_536, 65_536, 65_536, 65_536]);
  });
});

describe('work in flight per worker is bounded: 503 beyond it, served again after', () => {
  let bounded: Stack;
  beforeAll(async () => {
    bounded = await startStack({
      extra: { SECRET_SVC_MAX_IN_FLIGHT: '4', SECRET_SVC_MAX_IN_FLIGHT_PER_CALLER: '2', SECRET_SVC_MAX_IN_FLIGHT_BYTES: '40000' },
    });
  });
  afterAll(async () => { await bounded?.stop(); });

  it.each(ENCODINGS)('requests, request bytes and each caller key have their bound (%s)', async (encoding) => {
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((s) => bounded.issuer.caller(`lim-${s}-${encoding}`));
    const go = (who: TestCaller, req: Record<string, unknown>) => send(bounded.nc, `secret.${String(req.op)}`, envelope(who, req, encoding));
    const big = request('create', { key: `lim-d-${encoding}/big`, value: 'x'.repeat(50_000) });

    // Redis holds every admitted request for 1 s (under the worker's Redis command timeout);
    // they are all dispatched within milliseconds, in the order sent on one NATS connection.
    await bounded.redisClient().call('CLIENT', 'PAUSE', '1000', 'ALL');
    const held = [go(a!, request('whoami')), go(a!, request('whoami'))];
    const perCaller = go(a!, request('whoami'));
    held.push(go(b!, request('whoami')));
    const bytes = go(d!, big);
    held.push(go(c!, request('whoami')));
    const count = go(c!, request('whoami'));

    expectError(await perCaller, 503, encoding);
    expect((await perCaller).message).toContain('for this credential key (2)');
    expectError(await bytes, 503, encoding);
    expect((await bytes).message).toContain('over 40000 request bytes in flight');
    expectError(await count, 503, encoding);
    expect((await count).message).toContain('4 requests in flight');
    for (const reply of await Promise.all(held)) expectOk(reply, encoding);
    // Alone, the large request is admitted, and the refused caller is served again.
    expect(expectOk(await go(d!, big), encoding)).toMatchObject({ version: 1 });
    expectOk(await go(a!, request('whoami')), encoding);
  });
});
