/**
 * Nonces and retries (docs/protocol.md §3 Retries): an identical write envelope gets the first
 * reply and applies once; any other reuse of a nonce gets 401; and this holds across two
 * workers of the queue group sharing one Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecretClient } from '@secret-svc/client';
import type { TestCaller } from '../helpers/identities.js';
import { assemblePipeline, type Pipeline } from '../fault/assemble.js';
import { startStack, type Stack, type TestWorker } from '../helpers/stack.js';
import { generateJwk } from '@secret-svc/protocol';
import { ENCODINGS, envelope, expectError, expectOk, handBuiltCredential, nonce, request, send, statusOf } from '../helpers/wire.js';

let stack: Stack;
beforeAll(async () => { stack = await startStack(); });
afterAll(async () => { await stack?.stop(); });

describe.each(ENCODINGS)('retried writes (%s)', (encoding) => {
  const slug = `rt-${encoding}`;
  let me: TestCaller; let c: SecretClient;
  const resend = (op: string, body: Uint8Array) => send(stack.nc, `secret.${op}`, body);

  beforeAll(async () => {
    me = stack.issuer.caller(slug);
    c = await stack.client(me, encoding);
  });

  it('a resent create gets the first reply and creates once', async () => {
    const key = `${slug}/create`;
    const body = envelope(me, request('create', { key, value: 'first' }), encoding);
    const first = expectOk(await resend('create', body), encoding);
    expect(first).toMatchObject({ key, version: 1 });
    for (let i = 0; i < 3; i++) expect(expectOk(await resend('create', body), encoding)).toEqual(first);
    expect(await c.read(key)).toMatchObject({ value: 'first', version: 1, createdAt: first.createdAt });
  });

  it('a resent update gets the first reply (its version) and applies once', async () => {
    const key = `${slug}/update`;
    await c.create(key, 'v1');
    const body = envelope(me, request('update', { key, value: 'v2' }), encoding);
    const first = expectOk(await resend('update', body), encoding);
    expect(first.version).toBe(2);
    expect(expectOk(await resend('update', body), encoding)).toEqual(first);
    expect(await c.read(key)).toMatchObject({ value: 'v2', version: 2 });
    // Still the first reply after the secret moved on.
    await c.update(key, { value: 'v3' });
    expect(expectOk(await resend('update', body), encoding)).toEqual(first);
    expect(await c.read(key)).toMatchObject({ value: 'v3', version: 3 });
  });

  it('a resent delete gets {key, deleted: true} again and deletes once', async () => {
    const key = `${slug}/delete`;
    await c.create(key, 'x');
    const body = envelope(me, request('delete', { key }), encoding);
    expect(expectOk(await resend('delete', body), encoding)).toEqual({ key, deleted: true });
    // Recreated meanwhile: the resend must not delete the new secret.
    await c.create(key, 'reborn');
    expect(expectOk(await resend('delete', body), encoding)).toEqual({ key, deleted: true });
    expect(await c.read(key)).toMatchObject({ value: 'reborn', version: 1 });
  });

  it('a 409 stays a 409, even once the conflict is gone', async () => {
    const key = `${slug}/conflict`;
    await c.create(key, 'original');
    const body = envelope(me, request('create', { key, value: 'second' }), encoding);
    expectError(await resend('create', body), 409, encoding);
    expectError(await resend('create', body), 409, encoding);
    await c.delete(key);
    expectError(await resend('create', body), 409, encoding);
    await expect(c.read(key)).rejects.toMatchObject({ status: 404 });
  });

  it('a stale-ifVersion 409 stays a 409, and a refusal (403) stays a 403', async () => {
    const key = `${slug}/stale`;
    await c.create(key, 'v1');
    const stale = envelope(me, request('update', { key, value: 'nope', ifVersion: 7 }), encoding);
    expectError(await resend('update', stale), 409, encoding);
    expectError(await resend('update', stale), 409, encoding);
    expect(await c.read(key)).toMatchObject({ value: 'v1', version: 1 });
    const forbidden = envelope(me, request('create', { key: 'elsewhere/x', value: 'v' }), encoding);
    expectError(await resend('create', forbidden), 403, encoding);
    expectError(await resend('create', forbidden), 403, encoding);
  });

  it('a repeated read, list or whoami envelope gets 401', async () => {
    const key = `${slug}/read`;
    await c.create(key, 'r');
    for (const req of [request('read', { key }), request('read', { keys: [key] }), request('list', { prefix: slug }), request('whoami')]) {
      const body = envelope(me, req, encoding);
      expectOk(await resend(String(req.op), body), encoding);
      expectError(await resend(String(req.op), body), 401, encoding);
    }
  });

  it('reusing a write nonce for a different request gets 401 and changes nothing', async () => {
    const key = `${slug}/reuse`;
    await c.create(key, 'v1');
    const n = nonce();
    expectOk(await resend('update', envelope(me, request('update', { key, value: 'v2' }, { nonce: n }), encoding)), encoding);
    expectError(await resend('update', envelope(me, request('update', { key, value: 'v3' }, { nonce: n }), encoding)), 401, encoding);
    expectError(await resend('create', envelope(me, request('create', { key: `${slug}/reuse2`, value: 'x' }, { nonce: n }), encoding)), 401, encoding);
    expectError(await resend('delete', envelope(me, request('delete', { key }, { nonce: n }), encoding)), 401, encoding);
    expectError(await resend('read', envelope(me, request('read', { key }, { nonce: n }), encoding)), 401, encoding);
    expect(await c.read(key)).toMatchObject({ value: 'v2', version: 2 });
    await expect(c.read(`${slug}/reuse2`)).rejects.toMatchObject({ status: 404 });
  });

  it('a read nonce reused for a write gets 401', async () => {
    const key = `${slug}/read-then-write`;
    await c.create(key, 'v1');
    const n = nonce();
    expectOk(await resend('read', envelope(me, request('read', { key }, { nonce: n }), encoding)), encoding);
    expectError(await resend('update', envelope(me, request('update', { key, value: 'v2' }, { nonce: n }), encoding)), 401, encoding);
    expect(await c.read(key)).toMatchObject({ value: 'v1', version: 1 });
  });

  it('nonces belong to the caller key: a second credential for the same key cannot reuse one', async () => {
    const holder = generateJwk();
    const credFor = (jti: string): TestCaller => ({
      slug, key: holder,
      credential: handBuiltCredential(stack.issuer.jwk, { iss: stack.issuer.publicKey, sub: slug, jti, cnf: { jwk: { kty: 'OKP', crv: 'Ed25519', x: holder.x } } }),
    });
    const n = nonce();
    expectOk(await resend('whoami', envelope(credFor('first'), request('whoami', {}, { nonce: n }), encoding)), encoding);
    expectError(await resend('whoami', envelope(credFor('second'), request('whoami', {}, { nonce: n }), encoding)), 401, encoding);
  });

  it('nonces are per caller key: another caller may use the same nonce', async () => {
    const n = nonce();
    const other = stack.issuer.caller(slug);
    expectOk(await resend('whoami', envelope(me, request('whoami', {}, { nonce: n }), encoding)), encoding);
    expectOk(await resend('whoami', envelope(other, request('whoami', {}, { nonce: n }), encoding)), encoding);
  });
});

describe('two workers in the queue group share one Redis', () => {
  let second: TestWorker;
  const readCount = (w: TestWorker) => w.service.stats.get('read')!.counters().num_requests;

  beforeAll(async () => { second = await stack.addWorker(); });

  it.each(ENCODINGS)('the same read envelope sent twice at once: exactly one success and one 401 (%s)', async (encoding) => {
    const me = stack.issuer.caller(`qg-${encoding}`);
    const key = `qg-${encoding}/K`;
    await (await stack.client(me, encoding)).create(key, 'shared');
    const before = [readCount(stack.worker), readCount(second)];
    for (let i = 0; i < 20; i++) {
      const body = envelope(me, request('read', { key }), encoding);
      const replies = await Promise.all([send(stack.nc, 'secret.read', body), send(stack.nc, 'secret.read', body)]);
      expect(replies.map(statusOf).sort()).toEqual([200, 401]);
      const ok = replies.find((r) => statusOf(r) === 200)!;
      expect(expectOk(ok, encoding)).toMatchObject({ key, value: 'shared' });
      expectError(replies.find((r) => statusOf(r) === 401)!, 401, encoding);
    }
    // Both workers answered some of these (40 requests, spread by the queue group).
    expect(readCount(stack.worker)).toBeGreaterThan(before[0]!);
    expect(readCount(second)).toBeGreaterThan(before[1]!);
  });

  it('a resent write gets the first reply from whichever worker answers, and applies once', async () => {
    const me = stack.issuer.caller('qg-w');
    const c = await stack.client(me, 'msgpack');
    await c.create('qg-w/K', 'v1');
    const body = envelope(me, request('update', { key: 'qg-w/K', value: 'v2' }), 'msgpack');
    const first = expectOk(await send(stack.nc, 'secret.update', body), 'msgpack');
    for (let i = 0; i < 10; i++) expect(expectOk(await send(stack.nc, 'secret.update', body), 'msgpack')).toEqual(first);
    expect(await c.read('qg-w/K')).toMatchObject({ value: 'v2', version: 2 });
  });
});

describe('nonce lifetime does not follow the local clock', () => {
  const SKEW_S = 2;
  let a: Pipeline; let b: Pipeline;
  const behindMs = 1500;

  beforeAll(async () => {
    // Two workers on one Redis; B's clock is 1.5 s behind A's (both within the 2 s skew of the caller).
    const env = { ...stack.env, SECRET_SVC_MAX_CLOCK_SKEW: String(SKEW_S) };
    a = await assemblePipeline(env);
    b = await assemblePipeline(env, () => Date.now() - behindMs);
  });
  afterAll(() => { a?.close(); b?.close(); });

  it.each(ENCODINGS)('a request accepted by A at the edge of the window is refused by B, whose clock still sees it as fresh (%s)', async (encoding) => {
    const me = stack.issuer.caller(`clk-${encoding}`);
    const body = envelope(me, request('whoami', {}, { ts: Date.now() - (SKEW_S * 1000 - 100) }), encoding);
    expect((await a.handler.handle('whoami', body)).status).toBe(200);
    // Long enough for a nonce kept only "while ts is inside A's window" to be gone from Redis.
    await new Promise((r) => setTimeout(r, 1200));
    const again = await b.handler.handle('whoami', body);
    expect(again.status).toBe(401);
    expect(again.error?.message).toBe('nonce has already been used');
  });
});
