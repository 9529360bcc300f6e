/**
 * Error replies of docs/protocol.md §5 (400, 401, 403, 404, 409, 413), checked on the raw reply:
 * both headers, the body {error: {status, code, message}} and its encoding.
 * 500 (tampered records) is in storage.test.ts, 503 (Redis down) in availability.test.ts.
 */
import { decode as mpDecode, encode as mpEncode } from '@msgpack/msgpack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecretClient } from '@secret-svc/client';
import type { Encoding } from '@secret-svc/protocol/internal';
import { TestIssuer, type TestCaller } from '../helpers/identities.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { generateJwk, privateKeyObject, signBytes, signedBytes } from '@secret-svc/protocol/internal';
import { call, ENCODINGS, envelope, expectError, expectOk, handBuiltCredential, request, send, statusOf, type RawReply } from '../helpers/wire.js';

const MAX_VALUE = 64;
const MAX_ENVELOPE = 4096;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    extra: { SECRET_SVC_MAX_VALUE_BYTES: String(MAX_VALUE), SECRET_SVC_MAX_ENVELOPE_BYTES: String(MAX_ENVELOPE) },
  });
});
afterAll(async () => { await stack?.stop(); });

/** Decodes an envelope body, lets `edit` change it, encodes it again in the same encoding. */
function editEnvelope(body: Uint8Array, encoding: Encoding, edit: (e: Record<string, unknown>) => void): Uint8Array {
  const e = (encoding === 'json' ? JSON.parse(Buffer.from(body).toString('utf8')) : mpDecode(body)) as Record<string, unknown>;
  edit(e);
  return encoding === 'json' ? Buffer.from(JSON.stringify(e), 'utf8') : mpEncode(e);
}

describe('400 for bodies that are neither JSON nor MessagePack: a JSON error reply', () => {
  const bodies: [string, Uint8Array][] = [
    ['plain text (not "{", not MessagePack)', Buffer.from('hello world')],
    ['a JSON array text', Buffer.from('[1,2,3]')],
    ['broken JSON', Buffer.from('{"cred": ')],
    ['JSON with invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])],
    ['an empty body', new Uint8Array(0)],
    ['a never-used MessagePack byte', Buffer.from([0xc1])],
    ['truncated MessagePack', Buffer.from([0x83, 0xa4, 0x63, 0x72])],
  ];
  it.each(bodies)('%s', async (_name, body) => {
    for (const op of ['read', 'create', 'whoami']) {
      const reply = await send(stack.nc, `secret.${op}`, body);
      expectError(reply, 400, 'json');
    }
  });

  it('leading white space before "{" still means JSON', async () => {
    const c = stack.issuer.caller('ws');
    const body = Buffer.concat([Buffer.from(' \n\t '), envelope(c, request('whoami'), 'json')]);
    expect(expectOk(await send(stack.nc, 'secret.whoami', body), 'json')).toMatchObject({ slug: 'ws' });
  });
});

describe('413 before decoding: an oversized body is refused whatever it holds', () => {
  it('a "{" body over the limit gets a JSON 413', async () => {
    const body = Buffer.from(`{"cred":"${'x'.repeat(MAX_ENVELOPE)}`);
    expectError(await send(stack.nc, 'secret.read', body), 413, 'json');
  });

  it('any other body over the limit gets 413 with both headers', async () => {
    const reply = await send(stack.nc, 'secret.create', Buffer.alloc(MAX_ENVELOPE + 1, 0xc1));
    expect([reply.code, reply.body?.error?.status, reply.body?.error?.code]).toEqual(['413', 413, 'too_large']);
    expect(reply.message).toBe(reply.body.error.message);
  });
});

describe.each(ENCODINGS)('errors (%s)', (encoding) => {
  const slug = `e-${encoding}`;
  const peer = `p-${encoding}`;
  let me: TestCaller; let other: TestCaller; let admin: TestCaller;
  let c: SecretClient; let o: SecretClient; let a: SecretClient;
  const go = (caller: TestCaller, req: Record<string, unknown>, subjectOp?: string) =>
    call(stack.nc, caller, req, encoding, subjectOp ? { subjectOp } : {});
  const fail = async (status: 400 | 401 | 403 | 404 | 409 | 413, reply: Promise<RawReply>) => expectError(await reply, status, encoding);

  beforeAll(async () => {
    me = stack.issuer.caller(slug);
    other = stack.issuer.caller(peer);
    admin = stack.issuer.caller(`adm-${encoding}`, { admin: true });
    [c, o, a] = await Promise.all([stack.client(me, encoding), stack.client(other, encoding), stack.client(admin, encoding)]);
    await c.create(`${slug}/mine`, 'mine');
    // Visible to `me` only as a reader / only as a writer / only as a deleter.
    await o.create(`${peer}/reader`, 'r', { readers: [peer, slug] });
    await o.create(`${peer}/writer`, 'w', { writers: [peer, slug] });
    await o.create(`${peer}/deleter`, 'd', { deleters: [peer, slug] });
    // Not visible to `me` at all.
    await o.create(`${peer}/hidden`, 'h');
  });

  it('no error reply (body or header) carries the value of the request', async () => {
    const value = `VAL-${encoding}-0123456789abcdef0123456789abcdef`; // under the 64-byte limit
    const big = `${value}-${'z'.repeat(MAX_VALUE)}`;
    const replies = [
      [400, go(me, request('create', { key: `${slug}/leak1`, value, bogus: value }))],
      [400, go(me, request('create', { key: `${slug}/leak2`, value, readers: [value] }))],
      [400, go(me, request('create', { key: `${slug}/leak3`, value: [value] }))],
      [400, go(me, request('update', { key: `${slug}/mine`, value: { v: value } }))],
      [403, go(me, request('create', { key: `${peer}/leak`, value }))],
      [409, go(me, request('create', { key: `${slug}/mine`, value }))],
      [413, go(me, request('create', { key: `${slug}/leak4`, value: big }))],
      [401, go(me, request('create', { key: `${slug}/leak5`, value }, { ts: 1 }))],
    ] as const;
    for (const [status, pending] of replies) {
      const reply = await pending;
      expectError(reply, status, encoding);
      const text = Buffer.from(reply.data).toString('utf8') + reply.message;
      expect(text.includes(value), `value leaked in a ${status} reply`).toBe(false);
    }
  });

  describe('400 bad_request', () => {
    it('an unknown envelope field', async () => {
      const body = editEnvelope(envelope(me, request('read', { key: `${slug}/mine` }), encoding), encoding, (e) => { e.extra = 'x'; });
      await fail(400, send(stack.nc, 'secret.read', body));
    });

    it('an envelope missing a field or with a wrong-typed one', async () => {
      const good = envelope(me, request('whoami'), encoding);
      await fail(400, send(stack.nc, 'secret.whoami', editEnvelope(good, encoding, (e) => { delete e.sig; })));
      await fail(400, send(stack.nc, 'secret.whoami', editEnvelope(good, encoding, (e) => { e.cred = 42; })));
      await fail(400, send(stack.nc, 'secret.whoami', editEnvelope(good, encoding, (e) => {
        e.sig = encoding === 'json' ? 'AAAA' : new Uint8Array(10);
      })));
      // JSON: sig with base64 padding or in standard base64 alphabet; MessagePack: payload as str instead of bin.
      if (encoding === 'json') {
        await fail(400, send(stack.nc, 'secret.whoami', editEnvelope(good, encoding, (e) => { e.sig = `${String(e.sig)}==`; })));
        await fail(400, send(stack.nc, 'secret.whoami', editEnvelope(good, encoding, (e) => { e.payload = JSON.parse(String(e.payload)); })));
      } else {
        await fail(400, send(stack.nc, 'secret.whoami', editEnvelope(good, encoding, (e) => { e.payload = Buffer.from(e.payload as Uint8Array).toString('latin1'); })));
        await fail(400, send(stack.nc, 'secret.whoami', editEnvelope(good, encoding, (e) => { e.sig = Buffer.from(e.sig as Uint8Array).toString('base64url'); })));
      }
      // Not an object at all, but decodable in the request's encoding.
      await fail(400, send(stack.nc, 'secret.whoami', encoding === 'json' ? Buffer.from('{}') : mpEncode([1, 2])));
    });

    it('an unknown request field', async () => {
      await fail(400, go(me, request('read', { key: `${slug}/mine`, extra: true })));
      await fail(400, go(me, request('whoami', { key: `${slug}/mine` })));
      await fail(400, go(me, request('create', { key: `${slug}/new`, value: 'v', owner: slug })));
      expect((await c.list({ prefix: `${slug}/new` })).secrets).toEqual([]);
    });

    it('wrong types, missing fields, broken constraints', async () => {
      await fail(400, go(me, request('read', { key: 7 })));
      await fail(400, go(me, request('read', {})));
      await fail(400, go(me, request('read', { key: `${slug}/mine`, keys: [`${slug}/mine`] })));
      await fail(400, go(me, request('read', { keys: [`${slug}/mine`, `${slug}/mine`] })));
      await fail(400, go(me, request('read', { keys: [] })));
      await fail(400, go(me, request('read', { keys: Array.from({ length: 101 }, (_, i) => `${slug}/k${i}`) })));
      await fail(400, go(me, request('create', { key: `${slug}/nov` })));
      await fail(400, go(me, request('create', { key: `${slug}/badlist`, value: 'v', readers: ['Not A Slug'] })));
      await fail(400, go(me, request('create', { key: `${slug}/longlist`, value: 'v', writers: Array.from({ length: 101 }, (_, i) => `w${i}`) })));
      await fail(400, go(me, request('update', { key: `${slug}/mine`, deleters: 'e' })));
      await fail(400, go(me, request('update', { key: `${slug}/mine` })));
      await fail(400, go(me, request('update', { key: `${slug}/mine`, value: 'x', ifVersion: 0 })));
      await fail(400, go(me, request('list', { limit: 0 })));
      await fail(400, go(me, request('list', { limit: 1001 })));
      await fail(400, go(me, request('list', { cursor: '!!not-a-cursor!!' })));
      await fail(400, go(me, request('whoami', {}, { nonce: 'short' })));
      await fail(400, go(me, request('whoami', {}, { ts: 1.5 })));
      expect((await c.read(`${slug}/mine`)).version).toBe(1);
    });

    it('op not matching the subject', async () => {
      await fail(400, go(me, request('read', { key: `${slug}/mine` }), 'create'));
      await fail(400, go(me, request('delete', { key: `${slug}/mine` }), 'read'));
      await fail(400, go(me, request('whoami'), 'list'));
      expect((await c.read(`${slug}/mine`)).value).toBe('mine');
    });

    it.each([
      ['an empty segment', 'K//X'], ['a "." segment', 'K/./X'], ['a ".." segment', 'K/../X'], ['a space', 'K/a b'],
      ['a trailing slash', 'K/X/'], ['a leading slash', '/K/X'], ['a foreign character', 'K/ä'], ['over 256 chars', `K/${'x'.repeat(255)}`],
    ])('a bad key: %s', async (_name, shape) => {
      const key = shape.replace(/^K/, slug).replace(/^\/K/, `/${slug}`);
      await fail(400, go(me, request('create', { key, value: 'v' })));
      await fail(400, go(me, request('read', { key })));
      await fail(400, go(me, request('update', { key, value: 'v' })));
      await fail(400, go(me, request('delete', { key })));
      await fail(400, go(me, request('read', { keys: [`${slug}/mine`, key] })));
    });

    it('the empty key', async () => {
      await fail(400, go(me, request('read', { key: '' })));
    });
  });

  describe('401 unauthenticated', () => {
    it('a credential from an untrusted issuer', async () => {
      const stranger = new TestIssuer().caller(slug, { admin: true });
      await fail(401, go(stranger, request('read', { key: `${slug}/mine` })));
      await fail(401, go(stranger, request('whoami')));
    });

    it('a request signature by another key', async () => {
      const impostor = { ...me, key: stack.issuer.caller(slug).key };
      await fail(401, go(impostor, request('read', { key: `${slug}/mine` })));
    });

    it('a payload altered after signing', async () => {
      const body = envelope(me, request('read', { key: `${slug}/mine` }), encoding);
      const altered = editEnvelope(body, encoding, (e) => {
        if (encoding === 'json') e.payload = String(e.payload).replace(`${slug}/mine`, `${peer}/hidden`);
        else e.payload = mpEncode({ ...(mpDecode(e.payload as Uint8Array) as object), key: `${peer}/hidden` });
      });
      await fail(401, send(stack.nc, 'secret.read', altered));
    });

    it('the signature is checked before the payload is decoded: an unsigned garbage payload is 401, a signed one 400', async () => {
      const garbage = encoding === 'json' ? Buffer.from('not a request', 'utf8') : Buffer.from([0xc1, 0xc1]);
      const signed = editEnvelope(envelope(me, request('whoami'), encoding), encoding, (e) => {
        e.payload = encoding === 'json' ? garbage.toString('utf8') : garbage;
      });
      await fail(401, send(stack.nc, 'secret.whoami', signed)); // old signature, new payload
      const sig = signBytes(privateKeyObject(me.key), signedBytes(me.credential, garbage));
      const resigned = editEnvelope(signed, encoding, (e) => { e.sig = encoding === 'json' ? sig.toString('base64url') : sig; });
      await fail(400, send(stack.nc, 'secret.whoami', resigned));
    });

    it('a flipped signature byte', async () => {
      const body = envelope(me, request('whoami'), encoding);
      const altered = editEnvelope(body, encoding, (e) => {
        const sig = encoding === 'json' ? Buffer.from(String(e.sig), 'base64url') : Buffer.from(e.sig as Uint8Array);
        sig[10] = sig[10]! ^ 0x01;
        e.sig = encoding === 'json' ? sig.toString('base64url') : sig;
      });
      await fail(401, send(stack.nc, 'secret.whoami', altered));
    });

    it('a credential whose claims were edited (admin: true) without the issuer', async () => {
      const [h, p, s] = me.credential.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
      const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, admin: true })).toString('base64url')}.${s}`;
      await fail(401, go({ ...me, credential: forged }, request('read', { key: `${peer}/hidden` })));
    });

    it('an expired credential (past exp + skew)', async () => {
      const expired = stack.issuer.caller(slug, { ttlSeconds: 60, now: Date.now() - 3600_000 });
      await fail(401, go(expired, request('whoami')));
      await fail(401, go(expired, request('read', { key: `${slug}/mine` })));
    });

    it('ts outside the clock window, either side', async () => {
      await fail(401, go(me, request('read', { key: `${slug}/mine` }, { ts: Date.now() - 120_000 })));
      await fail(401, go(me, request('read', { key: `${slug}/mine` }, { ts: Date.now() + 120_000 })));
      await fail(401, go(me, request('create', { key: `${slug}/late`, value: 'v' }, { ts: Date.now() - 120_000 })));
      await expect(c.read(`${slug}/late`)).rejects.toMatchObject({ status: 404 });
    });

    describe('credential claims and header (hand-signed by the trusted issuer)', () => {
      const now = () => Math.floor(Date.now() / 1000);
      const holder = generateJwk();
      const cred = (claims: Record<string, unknown>, header?: Record<string, unknown>): TestCaller => ({
        slug,
        key: holder,
        credential: handBuiltCredential(stack.issuer.jwk, {
          iss: stack.issuer.publicKey, sub: slug, cnf: { jwk: { kty: 'OKP', crv: 'Ed25519', x: holder.x } }, ...claims,
        }, header),
      });

      it('accepted: no iat, no typ, exp/nbf just inside the clock-skew allowance', async () => {
        expectOk(await go(cred({}), request('whoami')), encoding);
        expectOk(await go(cred({ iat: now() }, { alg: 'EdDSA' }), request('whoami')), encoding);
        expectOk(await go(cred({ exp: now() - 30 }), request('whoami')), encoding);
        expectOk(await go(cred({ nbf: now() + 30 }), request('whoami')), encoding);
        const exp = now() + 600; // read the clock once: the reply must echo this exact exp
        const who = expectOk(await go(cred({ exp, admin: false }), request('whoami')), encoding);
        expect(who).toEqual({ slug, admin: false, issuer: stack.issuer.publicKey, expiresAt: new Date(exp * 1000).toISOString() });
      });

      it('refused: past exp + skew, before nbf - skew', async () => {
        await fail(401, go(cred({ exp: now() - 120 }), request('whoami')));
        await fail(401, go(cred({ nbf: now() + 120 }), request('read', { key: `${slug}/mine` })));
      });

      it('refused: another alg, another typ, an invalid sub, a cnf that is not Ed25519', async () => {
        await fail(401, go(cred({}, { alg: 'HS256', typ: 'JWT' }), request('whoami')));
        await fail(401, go(cred({}, { alg: 'none', typ: 'JWT' }), request('whoami')));
        await fail(401, go(cred({}, { alg: 'EdDSA', typ: 'JOSE' }), request('whoami')));
        await fail(401, go(cred({ sub: 'Not_A_Slug' }), request('whoami')));
        await fail(401, go(cred({ sub: `${slug}-` }), request('whoami')));
        await fail(401, go(cred({ cnf: { jwk: { kty: 'OKP', crv: 'X25519', x: holder.x } } }), request('whoami')));
      });

      it('refused: a time claim no date can hold (exp, iat or nbf beyond ±8.64e12 s) is 401, not 500', async () => {
        await fail(401, go(cred({ exp: 8.64e12 + 1 }), request('whoami')));
        await fail(401, go(cred({ exp: 1e300 }), request('whoami')));
        await fail(401, go(cred({ iat: 9e12 }), request('whoami')));
        await fail(401, go(cred({ nbf: -9e12 }), request('whoami')));
      });

      it('never an administrator through an inherited "__proto__" admin claim', async () => {
        // A computed key makes "__proto__" an own property, so it is serialized into the claims.
        const reply = await go(cred({ ['__proto__']: { admin: true } }), request('whoami'));
        if (statusOf(reply) === 200) expect(expectOk(reply, encoding)).toMatchObject({ slug, admin: false });
        else expectError(reply, 401, encoding);
      });

      it('refused: iss naming a trusted key but signed by another issuer', async () => {
        const rogue = new TestIssuer();
        const forged: TestCaller = {
          slug, key: holder,
          credential: handBuiltCredential(rogue.jwk, { iss: stack.issuer.publicKey, sub: slug, admin: true, cnf: { jwk: { kty: 'OKP', crv: 'Ed25519', x: holder.x } } }),
        };
        await fail(401, go(forged, request('read', { key: `${peer}/hidden` })));
      });
    });

    it('a replayed nonce', async () => {
      const body = envelope(me, request('read', { key: `${slug}/mine` }), encoding);
      expectOk(await send(stack.nc, 'secret.read', body), encoding);
      await fail(401, send(stack.nc, 'secret.read', body));
    });

    it('a wrong aud', async () => {
      await fail(401, go(me, request('read', { key: `${slug}/mine` }, { aud: 'other-svc' })));
      await fail(401, go(me, request('create', { key: `${slug}/aud`, value: 'v' }, { aud: 'secret-svc-staging' })));
      await expect(c.read(`${slug}/aud`)).rejects.toMatchObject({ status: 404 });
    });
  });

  describe('403 forbidden', () => {
    it.each([
      ['another slug\'s prefix', (s: string) => `someone-else/${s}`],
      ['the bare slug (one segment)', (s: string) => s],
      ['a slug that only starts with ours', (s: string) => `${s}-old/X`],
    ])('create under %s', async (_name, keyOf) => {
      await fail(403, go(me, request('create', { key: keyOf(slug), value: 'v' })));
    });

    it('create of an existing key under another slug\'s prefix: 403, not 409 (existence does not leak)', async () => {
      await fail(403, go(me, request('create', { key: `${peer}/hidden`, value: 'v' })));
      await fail(403, go(me, request('create', { key: `${peer}/reader`, value: 'v' })));
    });

    it('update by a caller that sees the secret but is not a writer', async () => {
      await fail(403, go(me, request('update', { key: `${peer}/reader`, value: 'x' })));
      await fail(403, go(me, request('update', { key: `${peer}/deleter`, readers: [slug] })));
      expect(await o.read(`${peer}/reader`)).toMatchObject({ value: 'r', version: 1 });
    });

    it('read by a caller that sees the secret but is not a reader', async () => {
      await fail(403, go(me, request('read', { key: `${peer}/writer` })));
      await fail(403, go(me, request('read', { key: `${peer}/deleter` })));
    });

    it('delete by a caller that sees the secret but is not a deleter', async () => {
      await fail(403, go(me, request('delete', { key: `${peer}/reader` })));
      await fail(403, go(me, request('delete', { key: `${peer}/writer` })));
      expect((await o.read(`${peer}/writer`)).version).toBe(1);
    });
  });

  describe('404 not_found', () => {
    it('an absent key, for read, update and delete', async () => {
      await fail(404, go(me, request('read', { key: `${slug}/absent` })));
      await fail(404, go(me, request('update', { key: `${slug}/absent`, value: 'x' })));
      await fail(404, go(me, request('delete', { key: `${slug}/absent` })));
      await fail(404, go(admin, request('read', { key: `${slug}/absent` })));
    });

    it('a secret the caller cannot see: 404, never 403', async () => {
      await fail(404, go(me, request('read', { key: `${peer}/hidden` })));
      await fail(404, go(me, request('update', { key: `${peer}/hidden`, value: 'x' })));
      await fail(404, go(me, request('delete', { key: `${peer}/hidden` })));
      expect(await o.read(`${peer}/hidden`)).toMatchObject({ value: 'h', version: 1 });
    });

    it('an oversized value or a stale ifVersion on an invisible secret is still 404', async () => {
      await fail(404, go(me, request('update', { key: `${peer}/hidden`, value: 'x'.repeat(MAX_VALUE + 1) })));
      await fail(404, go(me, request('update', { key: `${peer}/hidden`, value: 'x', ifVersion: 9 })));
      await fail(404, go(me, request('delete', { key: `${peer}/hidden`, ifVersion: 9 })));
    });

    it('an admin-created secret under the caller\'s prefix: invisible (404), yet create gets 409', async () => {
      const key = `${slug}/planted`;
      await a.create(key, 'by admin');
      await fail(404, go(me, request('read', { key })));
      await fail(409, go(me, request('create', { key, value: 'mine now' })));
      expect(await a.read(key)).toMatchObject({ value: 'by admin', version: 1, readers: [], writers: [], deleters: [] });
    });
  });

  describe('409 conflict', () => {
    it('create of an existing key', async () => {
      await fail(409, go(me, request('create', { key: `${slug}/mine`, value: 'again' })));
      await fail(409, go(admin, request('create', { key: `${slug}/mine`, value: 'again' })));
      expect(await c.read(`${slug}/mine`)).toMatchObject({ value: 'mine', version: 1 });
    });

    it('update and delete with a stale (or future) ifVersion change nothing', async () => {
      const key = `${slug}/versioned`;
      await c.create(key, 'v1');
      await c.update(key, { value: 'v2' });
      await fail(409, go(me, request('update', { key, value: 'x', ifVersion: 1 })));
      await fail(409, go(me, request('update', { key, readers: [], ifVersion: 3 })));
      await fail(409, go(me, request('delete', { key, ifVersion: 1 })));
      expect(await c.read(key)).toMatchObject({ value: 'v2', version: 2, readers: [slug] });
    });
  });

  describe('413 too_large', () => {
    it('a value over SECRET_SVC_MAX_VALUE_BYTES (counted in UTF-8 bytes), on create and update', async () => {
      const exact = 'x'.repeat(MAX_VALUE);
      expectOk(await go(me, request('create', { key: `${slug}/big`, value: exact })), encoding);
      const over = 'é'.repeat(MAX_VALUE / 2 + 1); // 33 characters, 66 bytes
      await fail(413, go(me, request('create', { key: `${slug}/too-big`, value: over })));
      await fail(413, go(me, request('update', { key: `${slug}/big`, value: over })));
      await fail(413, go(me, request('update', { key: `${slug}/big`, value: 'x'.repeat(MAX_VALUE + 1) })));
      expect(await c.read(`${slug}/big`)).toMatchObject({ value: exact, version: 1 });
      await expect(c.read(`${slug}/too-big`)).rejects.toMatchObject({ status: 404 });
    });

    it('a body of exactly SECRET_SVC_MAX_ENVELOPE_BYTES is served; one byte more is 413', async () => {
      // Padded with readers, then sized by the key's length (32-255 chars of [a-z/-]: one
      // more char = one more byte in both encodings).
      const readers = (n: number) => [slug, ...Array.from({ length: n }, (_, i) => `pad-${String(i).padStart(2, '0')}-${'p'.repeat(40)}`)];
      const keyOf = (len: number) => `${slug}/edge-`.padEnd(len, 'k');
      const sized = (keyLen: number, n: number) => envelope(me, request('create', { key: keyOf(keyLen), value: 'small', readers: readers(n) }), encoding);
      const fit = (target: number) => {
        let n = 0;
        while (sized(40, n + 1).byteLength <= target - 10) n++;
        const keyLen = 40 + target - sized(40, n).byteLength;
        const body = sized(keyLen, n);
        expect(body.byteLength).toBe(target);
        return { body, key: keyOf(keyLen) };
      };
      const over = fit(MAX_ENVELOPE + 1);
      const fits = fit(MAX_ENVELOPE);
      expect(over.key).not.toBe(fits.key);
      expectError(await send(stack.nc, 'secret.create', over.body), 413, encoding);
      expectOk(await send(stack.nc, 'secret.create', fits.body), encoding);
      expect((await c.read(fits.key)).value).toBe('small');
      await expect(c.read(over.key)).rejects.toMatchObject({ status: 404 });
    });

    it('a body over SECRET_SVC_MAX_ENVELOPE_BYTES, even with a small value', async () => {
      const readers = Array.from({ length: 100 }, (_, i) => `reader-${String(i).padStart(3, '0')}-${'r'.repeat(40)}`);
      const body = envelope(me, request('create', { key: `${slug}/wide`, value: 'small', readers }), encoding);
      expect(body.byteLength).toBeGreaterThan(MAX_ENVELOPE);
      await fail(413, send(stack.nc, 'secret.create', body));
      await expect(c.read(`${slug}/wide`)).rejects.toMatchObject({ status: 404 });
    });
  });
});
