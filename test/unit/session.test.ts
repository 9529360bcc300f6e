/** Session crypto (docs/protocol.md §12) against protocol/vectors/session-v1.json, byte for byte, in both encodings. */
import { readFileSync } from 'node:fs';
import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import {
  agree, BadRequestError, generateJwk, buildSessionEnvelope, checkSessionMac, decodeBody, deriveSessionKeys, encodeBody,
  generateSessionKeyPair, handshakeSignedBytes, open, openSessionPayload, openSessionReply, openSessionReplyObject,
  parsePrivateJwk, parseRequestEnvelope, parseSessionEnvelope, requestSchemas, privateKeyObject, publicKeyObject, readX25519PublicKey,
  seal, sealSessionReply, sessionKeyPairFromPrivate, sessionMac, sessionReplySchema, SessionReplyError,
  sessionKeyPairFromPrivate as fromPrivate, signHandshake, toBase64url, UnauthenticatedError, UndecodableBodyError,
  verifyHandshake, x25519PublicKeyProblem, type Encoding, type SessionHandle,
} from '@secret-svc/protocol/internal';
import { flipByte, thrownBy, VECTORS_DIR } from './fixtures.js';

const s = JSON.parse(readFileSync(new URL('session-v1.json', VECTORS_DIR), 'utf8'));
const hex = (h: string) => Buffer.from(h, 'hex');
const b64 = (t: string) => Buffer.from(t, 'base64url');

const caller = sessionKeyPairFromPrivate(hex(s.x25519.callerPrivateHex));
const worker = sessionKeyPairFromPrivate(hex(s.x25519.workerPrivateHex));
const epk = b64(s.x25519.epk);
const spk = b64(s.x25519.spk);
const keys = deriveSessionKeys(hex(s.x25519.sharedHex), epk, spk);
const session: SessionHandle = { ticket: s.ticket, keys };

const encodings = [
  {
    encoding: 'json' as Encoding,
    requestBytes: Buffer.from(s.json.requestBytes, 'utf8'),
    sealed: b64(s.json.payload),
    macInput: hex(s.json.macInputHex),
    mac: b64(s.json.mac),
    envelope: Buffer.from(s.json.envelope, 'utf8'),
    replyBytes: Buffer.from(s.reply.json.replyBytes, 'utf8'),
    replySealed: b64(s.reply.json.sealed),
    replyBody: Buffer.from(s.reply.json.body, 'utf8'),
  },
  {
    encoding: 'msgpack' as Encoding,
    requestBytes: hex(s.msgpack.requestBytesHex),
    sealed: hex(s.msgpack.payloadHex),
    macInput: hex(s.msgpack.macInputHex),
    mac: hex(s.msgpack.macHex),
    envelope: hex(s.msgpack.envelopeHex),
    replyBytes: hex(s.reply.msgpack.replyBytesHex),
    replySealed: hex(s.reply.msgpack.sealedHex),
    replyBody: hex(s.reply.msgpack.bodyHex),
  },
];

describe('X25519 and key derivation (vectors)', () => {
  it('derives epk and spk from the vector private keys', () => {
    expect(toBase64url(caller.publicKey)).toBe(s.x25519.epk);
    expect(toBase64url(worker.publicKey)).toBe(s.x25519.spk);
  });

  it('both sides agree on the vector shared secret', () => {
    expect(agree(caller.privateKey, spk).toString('hex')).toBe(s.x25519.sharedHex);
    expect(agree(worker.privateKey, epk).toString('hex')).toBe(s.x25519.sharedHex);
  });

  it('HKDF gives the vector okm split into macKey, replyKey, requestKey', () => {
    expect(Buffer.concat([epk, spk]).toString('hex')).toBe(s.hkdf.infoHex);
    expect(Buffer.concat([keys.macKey, keys.replyKey, keys.requestKey]).toString('hex')).toBe(s.hkdf.okmHex);
    expect(keys.macKey.toString('hex')).toBe(s.hkdf.macKeyHex);
    expect(keys.replyKey.toString('hex')).toBe(s.hkdf.replyKeyHex);
    expect(keys.requestKey.toString('hex')).toBe(s.hkdf.requestKeyHex);
  });

  it('fresh key pairs agree with each other and differ each time', () => {
    const a = generateSessionKeyPair();
    const b = generateSessionKeyPair();
    expect(a.publicKey).toHaveLength(32);
    expect(a.publicKey.equals(b.publicKey)).toBe(false);
    expect(agree(a.privateKey, b.publicKey).equals(agree(b.privateKey, a.publicKey))).toBe(true);
  });
});

describe('X25519 public keys (epk, spk)', () => {
  const p = (2n ** 255n - 19n);
  const le = (n: bigint) => Buffer.from(n.toString(16).padStart(64, '0'), 'hex').reverse();

  it.each([
    ['all zero (the negative vector)', s.negative.smallOrderEpk],
    ['one (the negative vector)', s.negative.smallOrderEpkOne],
    ['p - 1', toBase64url(le(p - 1n))],
    ['order 8 (a)', toBase64url(hex('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'))],
    ['order 8 (b)', toBase64url(hex('5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157'))],
  ])('refuses the small-order point %s', (_label, text) => {
    expect(readX25519PublicKey(text)).toBe('is a point of small order');
    // and agreement with it would indeed give the all-zero secret, which agree refuses
    expect(() => agree(caller.privateKey, b64(text))).toThrow();
  });

  it.each([
    ['p', le(p)],
    ['p + 1', le(p + 1n)],
    ['2^255 - 1', le(2n ** 255n - 1n)],
    ['the top bit set on a good key', Buffer.from([...epk.subarray(0, 31), epk[31]! | 0x80])],
  ])('refuses u out of range (%s)', (_label, raw) => {
    expect(x25519PublicKeyProblem(raw)).toMatch(/out of range/);
  });

  it('accepts p - 20 (in range, not small order) and the vector keys', () => {
    expect(x25519PublicKeyProblem(le(p - 20n))).toBeUndefined();
    expect(readX25519PublicKey(s.x25519.epk)).toEqual(epk);
  });

  it.each([
    ['31 bytes', toBase64url(epk.subarray(0, 31))],
    ['33 bytes', toBase64url(Buffer.concat([epk, Buffer.from([1])]))],
    ['padding', `${s.x25519.epk}=`],
    ['standard base64', epk.toString('base64')],
    ['non-zero trailing bits', `${s.x25519.epk.slice(0, -1)}${s.x25519.epk.endsWith('R') ? 'S' : 'R'}`],
    ['empty', ''],
  ])('refuses a non-canonical or wrong-length epk (%s)', (_label, text) => {
    expect(typeof readX25519PublicKey(text)).toBe('string');
    expect(requestSchemas.session.safeParse({ op: 'session', aud: 'a', ts: 1, nonce: 'A'.repeat(16), epk: text }).success).toBe(false);
  });

  it('the session request schema takes exactly op, head and a usable epk', () => {
    const head = { op: 'session', aud: 'secret-svc', ts: 1764000000000, nonce: 'A'.repeat(16) };
    expect(requestSchemas.session.safeParse({ ...head, epk: s.x25519.epk }).success).toBe(true);
    expect(requestSchemas.session.safeParse({ ...head, epk: s.negative.smallOrderEpk }).success).toBe(false);
    expect(requestSchemas.session.safeParse({ ...head }).success).toBe(false);
    expect(requestSchemas.session.safeParse({ ...head, epk: s.x25519.epk, key: 'a' }).success).toBe(false);
  });
});

describe.each(encodings)('$encoding session request (vectors)', (e) => {
  const nonce = hex(s.requestNonceHex);

  it('the request object encodes to the vector bytes', () => {
    expect(Buffer.from(encodeBody(s.request, e.encoding)).equals(e.requestBytes)).toBe(true);
  });

  it('seal(requestKey) with the vector nonce gives the vector payload, and open reverses it', () => {
    expect(seal(keys.requestKey, e.requestBytes, nonce).equals(e.sealed)).toBe(true);
    expect(open(keys.requestKey, e.sealed)?.equals(e.requestBytes)).toBe(true);
  });

  it('the MAC input and MAC are the vector bytes', () => {
    expect(e.macInput.subarray(0, 22).toString('ascii')).toBe('secret-svc/v1 session\n');
    expect(sessionMac(keys.macKey, s.ticket, e.sealed).equals(e.mac)).toBe(true);
  });

  it('buildSessionEnvelope reproduces the vector envelope', () => {
    const built = buildSessionEnvelope(session, s.request, e.encoding, nonce);
    expect(Buffer.from(built.body).equals(e.envelope)).toBe(true);
    expect(built.mac.equals(e.mac)).toBe(true);
  });

  it('the worker side parses, checks the MAC and opens the vector envelope', () => {
    const env = parseSessionEnvelope(e.envelope, e.encoding);
    expect(env.ticket).toBe(s.ticket);
    expect(Buffer.from(env.payload).equals(e.sealed)).toBe(true);
    expect(() => checkSessionMac(keys.macKey, env)).not.toThrow();
    expect(openSessionPayload(keys.requestKey, env, e.encoding)).toEqual(s.request);
  });

  it('sealSessionReply with the vector nonce gives the vector reply body', () => {
    const body = sealSessionReply(keys.replyKey, e.mac, e.replyBytes, e.encoding, hex(s.reply.nonceHex));
    expect(Buffer.from(body).equals(e.replyBody)).toBe(true);
    const decoded = decodeBody(e.replyBody, e.encoding) as { sealed: string | Uint8Array };
    const sealed = typeof decoded.sealed === 'string' ? b64(decoded.sealed) : Buffer.from(decoded.sealed);
    expect(sealed.equals(e.replySealed)).toBe(true);
  });

  it('the caller opens the vector reply: mac prefix checked, the secret comes out', () => {
    const body = decodeBody(e.replyBody, e.encoding);
    expect(openSessionReply(keys.replyKey, e.mac, body, e.encoding).equals(e.replyBytes)).toBe(true);
    expect(openSessionReplyObject(keys.replyKey, e.mac, body, e.encoding)).toEqual(s.reply.secret);
  });

  it('a reply answering another request (another mac) is refused', () => {
    const body = decodeBody(e.replyBody, e.encoding);
    const err = thrownBy(() => openSessionReply(keys.replyKey, flipByte(e.mac, 31), body, e.encoding));
    expect(err).toBeInstanceOf(SessionReplyError);
    expect((err as Error).message).toContain('another request');
  });

  it('a reply altered in any byte, or opened with the wrong key, is refused', () => {
    for (const i of [0, 23, 24, 40, e.replySealed.length - 1]) {
      const altered = e.encoding === 'json' ? { sealed: toBase64url(flipByte(e.replySealed, i)) } : { sealed: flipByte(e.replySealed, i) };
      expect(thrownBy(() => openSessionReply(keys.replyKey, e.mac, altered, e.encoding))).toBeInstanceOf(SessionReplyError);
    }
    const body = decodeBody(e.replyBody, e.encoding);
    expect(thrownBy(() => openSessionReply(keys.requestKey, e.mac, body, e.encoding))).toBeInstanceOf(SessionReplyError);
    expect(thrownBy(() => openSessionReply(keys.replyKey, e.mac, {}, e.encoding))).toBeInstanceOf(SessionReplyError);
  });

  it('a wrong MAC (any byte, the replyKey MAC of the negative vector) is 401', () => {
    const env = parseSessionEnvelope(e.envelope, e.encoding);
    for (const i of [0, 15, 31]) {
      const err = thrownBy(() => checkSessionMac(keys.macKey, { ...env, mac: flipByte(env.mac, i) }));
      expect(err).toBeInstanceOf(UnauthenticatedError);
    }
    if (e.encoding === 'json') {
      const wrongKeyMac = b64(s.negative.macWithReplyKey);
      expect(sessionMac(keys.replyKey, s.ticket, e.sealed).equals(wrongKeyMac)).toBe(true);
      expect(thrownBy(() => checkSessionMac(keys.macKey, { ...env, mac: wrongKeyMac }))).toMatchObject({ status: 401 });
    }
    expect(thrownBy(() => checkSessionMac(keys.macKey, { ...env, ticket: `${s.ticket}x` }))).toMatchObject({ status: 401 });
    expect(thrownBy(() => checkSessionMac(keys.macKey, { ...env, payload: flipByte(env.payload, 30) }))).toMatchObject({ status: 401 });
  });

  it('a payload that does not open, or is in the other encoding, is 400', () => {
    const env = parseSessionEnvelope(e.envelope, e.encoding);
    const err = thrownBy(() => openSessionPayload(keys.replyKey, env, e.encoding));
    expect(err).toBeInstanceOf(BadRequestError);
    const other: Encoding = e.encoding === 'json' ? 'msgpack' : 'json';
    const crossed = { ...env, payload: seal(keys.requestKey, encodeBody(s.request, other)) };
    expect(thrownBy(() => openSessionPayload(keys.requestKey, crossed, e.encoding))).toMatchObject({ status: 400 });
    const short = { ...env, payload: env.payload.subarray(0, 39) };
    expect(thrownBy(() => openSessionPayload(keys.requestKey, short, e.encoding))).toMatchObject({ status: 400 });
  });
});

describe('session envelope shape (400)', () => {
  const json = JSON.parse(s.json.envelope) as Record<string, unknown>;
  const mp = { ticket: s.ticket, payload: hex(s.msgpack.payloadHex), mac: hex(s.msgpack.macHex) };
  const bad = (body: Uint8Array, encoding: Encoding) => {
    const err = thrownBy(() => parseSessionEnvelope(body, encoding));
    expect(err).toBeInstanceOf(BadRequestError);
    return err as BadRequestError;
  };

  it.each<[string, Record<string, unknown>]>([
    ['cred mixed in', { ...json, cred: 'a.b.c' }],
    ['sig mixed in', { ...json, sig: 'AAAA' }],
    ['missing mac', { ticket: json.ticket, payload: json.payload }],
    ['mac of 31 bytes', { ...json, mac: toBase64url(b64(s.json.mac).subarray(0, 31)) }],
    ['mac of 33 bytes', { ...json, mac: toBase64url(Buffer.concat([b64(s.json.mac), Buffer.from([0])])) }],
    ['mac with padding', { ...json, mac: `${s.json.mac}=` }],
    ['payload with a foreign character', { ...json, payload: `${s.json.payload}*` }],
    ['payload with non-zero trailing bits', { ...json, payload: `${(s.json.payload as string).slice(0, -1)}d` }],
    ['ticket a number', { ...json, ticket: 5 }],
    ['payload an object', { ...json, payload: s.request }],
  ])('JSON: %s', (_label, obj) => {
    expect(bad(Buffer.from(JSON.stringify(obj)), 'json')).not.toBeInstanceOf(UndecodableBodyError);
  });

  it.each<[string, Record<string, unknown>]>([
    ['cred mixed in', { ...mp, cred: 'a.b.c' }],
    ['payload as str', { ...mp, payload: s.json.payload }],
    ['mac of 16 bytes', { ...mp, mac: mp.mac.subarray(0, 16) }],
    ['mac as str', { ...mp, mac: s.json.mac }],
  ])('MessagePack: %s', (_label, obj) => {
    bad(encode(obj), 'msgpack');
  });

  it('parseRequestEnvelope tells a session envelope from a signed one, and refuses a mix', () => {
    expect(parseRequestEnvelope(Buffer.from(s.json.envelope), 'json').kind).toBe('session');
    expect(parseRequestEnvelope(hex(s.msgpack.envelopeHex), 'msgpack').kind).toBe('session');
    const signed = readFileSync(new URL('v1.json', VECTORS_DIR), 'utf8');
    expect(parseRequestEnvelope(Buffer.from(JSON.parse(signed).json.envelope), 'json').kind).toBe('signed');
    for (const mixed of [{ ...json, cred: 'a.b.c' }, { cred: 'a.b.c', payload: '{}', mac: s.json.mac }]) {
      expect(thrownBy(() => parseRequestEnvelope(Buffer.from(JSON.stringify(mixed)), 'json'))).toMatchObject({ status: 400 });
    }
  });

  it('only the type of the ticket is shape: any string parses (the ticket check answers 401)', () => {
    for (const ticket of ['', '!!not base64!!', 'x'.repeat(5000), 'é']) {
      expect(parseSessionEnvelope(Buffer.from(JSON.stringify({ ...json, ticket })), 'json').ticket).toBe(ticket);
    }
  });

  it('accepts a canonical payload of any length', () => {
    const sealed = seal(keys.requestKey, Buffer.from('{ }'));
    expect(sealed.length % 3).not.toBe(0);
    const text = toBase64url(sealed);
    const ok = parseSessionEnvelope(Buffer.from(JSON.stringify({ ...json, payload: text })), 'json');
    expect(Buffer.from(ok.payload).equals(sealed)).toBe(true);
  });
});

describe('handshake signature (vector)', () => {
  const serviceJwk = parsePrivateJwk(s.handshake.serviceKey);
  const servicePrivate = privateKeyObject(serviceJwk);
  const servicePublic = publicKeyObject(serviceJwk.x);
  const reply = s.handshake.reply;

  it('the signed bytes and the signature are the vector ones', () => {
    expect(handshakeSignedBytes(epk, spk, s.ticket, s.handshake.expiresAt).toString('hex')).toBe(s.handshake.signedBytesHex);
    expect(signHandshake(servicePrivate, epk, spk, s.ticket, s.handshake.expiresAt)).toBe(s.handshake.sig);
  });

  it('the vector reply is well formed and verifies under the service key for its epk', () => {
    expect(sessionReplySchema.safeParse(reply).success).toBe(true);
    expect(verifyHandshake(servicePublic, epk, reply)).toBe(true);
  });

  it('refuses an unsigned, forged or re-targeted handshake', () => {
    const { sig: _sig, ...unsigned } = reply;
    expect(verifyHandshake(servicePublic, epk, unsigned)).toBe(false);
    expect(verifyHandshake(servicePublic, epk, { ...reply, expiresAt: '2025-11-24T18:00:00.000Z' })).toBe(false);
    expect(verifyHandshake(servicePublic, epk, { ...reply, ticket: `${reply.ticket}A` })).toBe(false);
    expect(verifyHandshake(servicePublic, generateSessionKeyPair().publicKey, reply)).toBe(false);
    expect(verifyHandshake(servicePublic, epk, { ...reply, spk: toBase64url(generateSessionKeyPair().publicKey) })).toBe(false);
    // an attacker answering in the worker's place, with its own spk, signed by its own key
    const attacker = fromPrivate(hex('55'.repeat(32)));
    const sig = signHandshake(privateKeyObject(generateJwk()), epk, attacker.publicKey, reply.ticket, reply.expiresAt);
    expect(verifyHandshake(servicePublic, epk, { ...reply, spk: toBase64url(attacker.publicKey), sig })).toBe(false);
  });

  it.each<[string, Record<string, unknown>]>([
    ['ticket with a dot', { ...reply, ticket: 'a.b' }],
    ['ticket empty', { ...reply, ticket: '' }],
    ['ticket of 1025 chars', { ...reply, ticket: 'a'.repeat(1025) }],
    ['spk of small order', { ...reply, spk: s.negative.smallOrderEpk }],
    ['expiresAt not ISO', { ...reply, expiresAt: 'tomorrow' }],
    ['sig of 63 bytes', { ...reply, sig: toBase64url(b64(reply.sig).subarray(0, 63)) }],
    ['an extra field', { ...reply, extra: 1 }],
  ])('the reply schema refuses %s', (_label, obj) => {
    expect(sessionReplySchema.safeParse(obj).success).toBe(false);
  });
});
