/**
 * 503 when the store cannot be reached (docs/protocol.md §5): a request gets a 503 reply, not a
 * timeout, and the same worker serves again once Redis is back, without a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCaller } from '../helpers/identities.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { call, ENCODINGS, expectError, expectOk, request, statusOf, waitFor } from '../helpers/wire.js';

let stack: Stack;
let me: TestCaller;
beforeAll(async () => {
  stack = await startStack();
  me = stack.issuer.caller('av');
});
afterAll(async () => { await stack?.stop(); });

const every = (key: string) => [
  request('whoami'), request('read', { key }), request('read', { keys: [key] }), request('list', {}),
  request('create', { key: `${key}-new`, value: 'v' }), request('update', { key, value: 'v2' }), request('delete', { key }),
];

describe.each(['SIGTERM', 'SIGKILL'] as const)('Redis %s', (signal) => {
  it('every operation answers 503 in both encodings, then the same worker serves again', async () => {
    const key = `av/${signal}`;
    for (const encoding of ENCODINGS) expectOk(await call(stack.nc, me, request('create', { key: `${key}-${encoding}`, value: 'before' }), encoding), encoding);

    await stack.redis.stop(signal);
    for (const encoding of ENCODINGS) {
      for (const req of every(`${key}-${encoding}`)) {
        // A reply well before the request timeout: the worker answers, it does not hang.
        const reply = await call(stack.nc, me, req, encoding);
        expectError(reply, 503, encoding);
      }
    }

    await stack.redis.start();
    // Redis came back empty (no persistence): wait until the worker reconnects.
    await waitFor(async () => statusOf(await call(stack.nc, me, request('whoami'), 'msgpack')) === 200);
    for (const encoding of ENCODINGS) {
      const created = expectOk(await call(stack.nc, me, request('create', { key: `${key}-${encoding}`, value: 'after' }), encoding), encoding);
      expect(created).toMatchObject({ version: 1 });
      expect(expectOk(await call(stack.nc, me, request('read', { key: `${key}-${encoding}` }), encoding), encoding)).toMatchObject({ value: 'after' });
    }
  });
});

it('the client surfaces the 503 as UnavailableError (after its retries)', async () => {
  const c = await stack.client(me, 'msgpack', { retries: 1, retryDelayMs: 10 });
  await stack.redis.stop();
  await expect(c.read('av/x')).rejects.toMatchObject({ status: 503, code: 'unavailable' });
  await stack.redis.start();
  await waitFor(async () => (await c.whoami()).slug === 'av');
  expect((await c.create('av/x', 'back')).version).toBe(1);
});
