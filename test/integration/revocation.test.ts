/**
 * Revocation (docs/protocol.md §10) through real NATS and Redis: a revoked credential is refused
 * with 401 by every worker of the queue group once a second has passed since the reply to
 * `revoke` (also a worker that had it cached, whoami, and resends of earlier writes), after
 * a restart too, and `unrevoke` lifts it; the ops' own replies, refusals and resends; and a
 * forged hint on the bus changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecretClient } from '@secret-svc/client';
import { generateJwk, issueCredential, privateKeyObject, type Op } from '@secret-svc/protocol';
import type { TestCaller } from '../helpers/identities.js';
import { startStack, type Stack, type TestWorker } from '../helpers/stack.js';
import { envelope, expectError, expectOk, request, send, type RawReply } from '../helpers/wire.js';

/** docs/protocol.md §10: every worker refuses within one second of the reply. */
const PROPAGATION_MS = 1_000;
const REVOKED = 'credential has been revoked';

let stack: Stack;
let workers: TestWorker[];
let admin: SecretClient;
let adminCaller: TestCaller;

beforeAll(async () => {
  stack = await startStack();
  workers = [stack.worker, await stack.addWorker()];
  adminCaller = stack.issuer.caller('root', { admin: true });
  admin = await stack.client(adminCaller, 'json');
});
afterAll(async () => { await stack?.stop(); });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits out the propagation bound, counted from when the reply to revoke/unrevoke arrived. */
const settled = (sinceMs: number) => sleep(Math.max(0, sinceMs + PROPAGATION_MS - Date.now()));

/** A caller whose credential carries this jti (and iat = now). */
function callerWithJti(slug: string, jti: string): TestCaller {
  const key = generateJwk();
  const credential = issueCredential({
    issuerKey: privateKeyObject(stack.issuer.jwk), issuer: stack.issuer.publicKey, slug, subjectKey: key.x, jti,
  });
  return { slug, credential, key };
}

/**
 * Sends until `worker` answered one (the queue group picks a worker at random; its endpoint
 * counter says which one did). `body` builds each attempt (a fresh nonce, or the same bytes).
 */
async function via(worker: TestWorker, op: Op, body: () => Uint8Array): Promise<RawReply> {
  const counter = () => worker.service.stats.get(op)!.counters().num_requests;
  for (let i = 0; i < 200; i++) {
    const before = counter();
    const reply = await send(stack.nc, `secret.${op}`, body());
    if (counter() > before) return reply;
  }
  throw new Error(`no ${op} request reached the worker`);
}

function expectRevoked(reply: RawReply): void {
  expectError(reply, 401, 'json');
  expect(reply.message).toBe(REVOKED);
}

describe('revoking a credential', () => {
  it('every worker refuses it within 1 s (cached, whoami, read, a write resend); unrevoke lifts it', async () => {
    const victim = stack.issuer.caller('victim');
    const resendBody = envelope(victim, request('create', { key: 'victim/one', value: 'x' }), 'json');
    const firstReply = expectOk(await send(stack.nc, 'secret.create', resendBody), 'json');
    // Each worker verifies and caches the credential first.
    for (const w of workers) expectOk(await via(w, 'whoami', () => envelope(victim, request('whoami'), 'json')), 'json');

    const revoked = await admin.revoke({ keyId: victim.key.x });
    const repliedAt = Date.now();
    expect(revoked).toEqual({ revoked: { keyId: victim.key.x }, at: expect.any(String), by: 'root' });
    expect(new Date(revoked.at).toISOString()).toBe(revoked.at);
    await settled(repliedAt);
    for (const w of workers) {
      expectRevoked(await via(w, 'whoami', () => envelope(victim, request('whoami'), 'json')));
      expectRevoked(await via(w, 'read', () => envelope(victim, request('read', { key: 'victim/one' }), 'json')));
      expectRevoked(await via(w, 'create', () => resendBody));
    }

    await admin.unrevoke({ keyId: victim.key.x });
    await settled(Date.now());
    for (const w of workers) {
      expectOk(await via(w, 'whoami', () => envelope(victim, request('whoami'), 'json')), 'json');
      expect(expectOk(await via(w, 'create', () => resendBody), 'json')).toEqual(firstReply);
    }
  });

  it('by jti and by slug with issuedBefore: only the matching credentials', async () => {
    const byJti = callerWithJti('jti-svc', 'jti-victim-1');
    const sameSlugOtherJti = callerWithJti('jti-svc', 'jti-other-1');
    const old = stack.issuer.caller('slug-svc', { now: Date.now() - 3_600_000 });
    const fresh = stack.issuer.caller('slug-svc');
    await admin.revoke({ jti: 'jti-victim-1' });
    await admin.revoke({ slug: 'slug-svc', issuedBefore: Math.floor(Date.now() / 1000) - 60 });
    await settled(Date.now());
    const whoami = (c: TestCaller) => send(stack.nc, 'secret.whoami', envelope(c, request('whoami'), 'json'));
    expectRevoked(await whoami(byJti));
    expectRevoked(await whoami(old));
    expectOk(await whoami(sameSlugOtherJti), 'json');
    expectOk(await whoami(fresh), 'json');
  });

  it('survives a worker restart: a worker started later loads the set', async () => {
    const victim = stack.issuer.caller('restart-victim');
    await admin.revoke({ keyId: victim.key.x });
    await workers[1]!.stop();
    const later = await stack.addWorker();
    workers[1] = later;
    expect(later.revocations.set.entries()).toContainEqual({ keyId: victim.key.x, at: expect.any(String), by: 'root' });
    expectRevoked(await via(later, 'whoami', () => envelope(victim, request('whoami'), 'json')));
  });

  it('a forged hint on the bus neither revokes nor lifts anything', async () => {
    const bystander = stack.issuer.caller('bystander');
    const victim = stack.issuer.caller('forged-victim');
    await admin.revoke({ keyId: victim.key.x });
    await settled(Date.now());
    const forged = JSON.stringify({ revoked: { keyId: bystander.key.x }, unrevoked: { keyId: victim.key.x }, revocations: [] });
    for (let i = 0; i < 5; i++) stack.nc.publish('secret.internal.revocations', new TextEncoder().encode(forged));
    await stack.nc.flush();
    await settled(Date.now());
    for (const w of workers) {
      expectOk(await via(w, 'whoami', () => envelope(bystander, request('whoami'), 'json')), 'json');
      expectRevoked(await via(w, 'whoami', () => envelope(victim, request('whoami'), 'json')));
    }
  });
});

describe('the revocation ops', () => {
  it('revoking again returns the original at and by; a resend gets the first reply; listed in the order made', async () => {
    const second = await stack.client(stack.issuer.caller('root-two', { admin: true }), 'msgpack');
    const redis = stack.redisClient();
    const revision = async () => Number(await redis.get('secret-svc:{s}:rv:rev'));
    const first = await admin.revoke({ jti: 'twice-1' });
    const afterFirst = await revision();
    await sleep(5);
    expect(await second.revoke({ jti: 'twice-1' })).toEqual(first);
    expect(await revision()).toBe(afterFirst); // changed nothing
    const body = envelope(adminCaller, request('revoke', { jti: 'twice-2' }), 'json');
    const sent = expectOk(await send(stack.nc, 'secret.revoke', body), 'json');
    expect(sent).toMatchObject({ revoked: { jti: 'twice-2' }, by: 'root' });
    expect(expectOk(await send(stack.nc, 'secret.revoke', body), 'json')).toEqual(sent);
    const unBody = envelope(adminCaller, request('unrevoke', { jti: 'twice-2' }), 'json');
    expect(expectOk(await send(stack.nc, 'secret.unrevoke', unBody), 'json')).toEqual({ unrevoked: { jti: 'twice-2' } });
    const afterUnrevoke = await revision();
    expect(afterUnrevoke).toBe(afterFirst + 2);
    // The resend gets the first reply (not 404) and removes nothing more.
    expect(expectOk(await send(stack.nc, 'secret.unrevoke', unBody), 'json')).toEqual({ unrevoked: { jti: 'twice-2' } });
    expect(await revision()).toBe(afterUnrevoke);
    await admin.revoke({ slug: 'order-svc', issuedBefore: 5 });

    const { revocations } = await second.revocations();
    const mine = revocations.filter((e) => ('jti' in e && e.jti.startsWith('twice-')) || ('slug' in e && e.slug === 'order-svc'));
    expect(mine).toEqual([
      { jti: 'twice-1', at: first.at, by: 'root' },
      { slug: 'order-svc', issuedBefore: 5, at: expect.any(String), by: 'root' },
    ]);
    // Every entry made before is listed before these, in order.
    const ats = revocations.map((e) => e.at);
    expect([...ats].sort()).toEqual(ats);
  });

  it('unrevoke of an entry that does not exist: 404, also for a different issuedBefore', async () => {
    await admin.revoke({ slug: 'exact-svc', issuedBefore: 100 });
    for (const selector of [{ jti: 'never-revoked' }, { slug: 'exact-svc', issuedBefore: 101 }]) {
      const reply = await send(stack.nc, 'secret.unrevoke', envelope(adminCaller, request('unrevoke', selector), 'json'));
      expectError(reply, 404, 'json');
    }
    expect(await admin.unrevoke({ slug: 'exact-svc', issuedBefore: 100 })).toEqual({ unrevoked: { slug: 'exact-svc', issuedBefore: 100 } });
  });

  it('a non-administrator gets 403 from all three; a resend of its revoke gets 403 again', async () => {
    const plain = stack.issuer.caller('plain-svc');
    const body = envelope(plain, request('revoke', { jti: 'plain-1' }), 'json');
    expectError(await send(stack.nc, 'secret.revoke', body), 403, 'json');
    expectError(await send(stack.nc, 'secret.revoke', body), 403, 'json');
    expectError(await send(stack.nc, 'secret.unrevoke', envelope(plain, request('unrevoke', { jti: 'plain-1' }), 'json')), 403, 'json');
    expectError(await send(stack.nc, 'secret.revocations', envelope(plain, request('revocations'), 'json')), 403, 'json');
    const { revocations } = await admin.revocations();
    expect(revocations.some((e) => 'jti' in e && e.jti === 'plain-1')).toBe(false);
  });

  it.each<[string, Record<string, unknown>]>([
    ['no selector', {}],
    ['two forms', { jti: 'a', keyId: generateJwk().x }],
    ['slug without issuedBefore', { slug: 'a-svc' }],
    ['keyId not base64url of 32 bytes', { keyId: 'not-a-key' }],
    ['keyId of small order (all zero)', { keyId: 'A'.repeat(43) }],
    ['keyId of small order (the identity point)', { keyId: `AQ${'A'.repeat(41)}` }],
    ['jti too long', { jti: 'j'.repeat(129) }],
    ['jti empty', { jti: '' }],
    ['issuedBefore not an integer', { slug: 'a-svc', issuedBefore: 1.5 }],
    ['issuedBefore a string', { slug: 'a-svc', issuedBefore: '5' }],
    ['issuedBefore negative', { slug: 'a-svc', issuedBefore: -1 }],
  ])('400 before the caller right (a non-administrator too): %s', async (_label, selector) => {
    const plain = stack.issuer.caller('plain-400');
    for (const op of ['revoke', 'unrevoke'] as const) {
      expectError(await send(stack.nc, `secret.${op}`, envelope(adminCaller, request(op, selector), 'json')), 400, 'json');
      expectError(await send(stack.nc, `secret.${op}`, envelope(plain, request(op, selector), 'json')), 400, 'json');
    }
  });

  it('revocations takes no fields (400)', async () => {
    expectError(await send(stack.nc, 'secret.revocations', envelope(adminCaller, request('revocations', { jti: 'x' }), 'json')), 400, 'json');
  });

  it('an administrator may revoke its own credential: its later requests get 401', async () => {
    const self = stack.issuer.caller('self-admin', { admin: true });
    const c = await stack.client(self, 'json');
    await c.revoke({ keyId: self.key.x });
    await settled(Date.now());
    await expect(c.whoami()).rejects.toMatchObject({ status: 401, message: REVOKED });
  });
});

describe('a worker that cannot read the revocations', () => {
  it('does not start (a malformed entry in the store), and starts once it is readable', async () => {
    const redis = stack.redisClient();
    await redis.zadd('secret-svc:{s}:rv:order', 1e9, 'broken');
    await redis.hset('secret-svc:{s}:rv:entries', 'broken', 'not an outcome');
    await expect(stack.addWorker()).rejects.toThrow(/revocation entry is malformed/);
    await redis.zrem('secret-svc:{s}:rv:order', 'broken');
    await redis.hdel('secret-svc:{s}:rv:entries', 'broken');
    const w = await stack.addWorker();
    expect(w.revocations.set.size).toBeGreaterThan(0);
  });
});
