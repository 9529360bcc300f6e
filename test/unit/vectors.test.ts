/** The shared vectors (docs/protocol.md §2–3) against the shared protocol code and the worker's credential check. */
import { describe, expect, it } from 'vitest';
import {
  buildEnvelope, CredentialError, decodeJson, decodeMsgpack, generateJwk, issueCredential, parseCredential, parseEnvelope,
  privateKeyObject, publicKeyObject, signBytes, signedBytes, toBase64url, UnauthenticatedError, verifyBytes,
  verifyCredentialSignature, type ParsedCredential,
} from '@secret-svc/protocol/internal';
import { CredentialVerifier } from '../../src/auth/credentials.js';
import { flipByte, loadVectors } from './fixtures.js';

const v = loadVectors();
const issuerPublic = publicKeyObject(v.issuerKey.x);
const issuerPrivate = privateKeyObject(v.issuerKey);
const callerPublic = publicKeyObject(v.callerKey.x);
const callerPrivate = privateKeyObject(v.callerKey);
const cred = v.credential.text;

const jsonPayload = Buffer.from(v.json.payload, 'utf8');
const jsonSig = Buffer.from(v.json.sig, 'base64url');
const msgpackPayload = Buffer.from(v.msgpack.payloadHex, 'hex');
const msgpackSig = Buffer.from(v.msgpack.sigHex, 'hex');

const encodings = [
  { name: 'json', payload: jsonPayload, sig: jsonSig, signedHex: v.json.signedBytesHex },
  { name: 'msgpack', payload: msgpackPayload, sig: msgpackSig, signedHex: v.msgpack.signedBytesHex },
] as const;

function parsed(text: string): ParsedCredential {
  return parseCredential(text);
}

/** Replaces the character at `index` with a different base64url character. */
function changeChar(text: string, index: number): string {
  const replacement = text[index] === 'A' ? 'B' : 'A';
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

describe('credential vector', () => {
  it('parses and verifies under the issuer key, with the vector claims', () => {
    const p = parsed(cred);
    expect(verifyCredentialSignature(p, issuerPublic)).toBe(true);
    expect(p.claims).toEqual(v.credential.claims);
    expect(p.signingInput.toString('ascii')).toBe(v.credential.signingInput);
    const header = JSON.parse(Buffer.from(cred.split('.')[0]!, 'base64url').toString('utf8'));
    expect(header).toEqual(v.credential.header);
  });

  it('does not verify under another key (the caller key, a fresh key)', () => {
    const p = parsed(cred);
    expect(verifyCredentialSignature(p, callerPublic)).toBe(false);
    expect(verifyCredentialSignature(p, publicKeyObject(generateJwk().x))).toBe(false);
  });

  it('is reproduced by issueCredential (same claims, deterministic EdDSA)', () => {
    const claims = v.credential.claims as { sub: string; iat: number; jti: string };
    const text = issueCredential({
      issuerKey: issuerPrivate, issuer: v.issuerKey.x, slug: claims.sub, subjectKey: v.callerKey.x,
      jti: claims.jti, now: claims.iat * 1000,
    });
    expect(text).toBe(cred);
  });

  it('rejects the alg "none" credential at parse time', () => {
    expect(() => parseCredential(v.negative.credentialAlgNone)).toThrow(CredentialError);
  });
});

describe.each(encodings)('$name envelope vector', ({ name, payload, sig, signedHex }) => {
  it('signedBytes(cred, payload) equals the vector bytes', () => {
    const bytes = signedBytes(cred, payload);
    expect(bytes.toString('hex')).toBe(signedHex);
    expect(bytes.subarray(0, 14).toString('ascii')).toBe('secret-svc/v1\n');
  });

  it('the vector signature verifies with the caller key', () => {
    expect(verifyBytes(callerPublic, signedBytes(cred, payload), sig)).toBe(true);
  });

  it('signing the vector payload with the caller key gives exactly the vector sig', () => {
    expect(signBytes(callerPrivate, signedBytes(cred, payload)).equals(sig)).toBe(true);
  });

  it('the signature does not verify with the issuer key', () => {
    expect(verifyBytes(issuerPublic, signedBytes(cred, payload), sig)).toBe(false);
  });

  it('the payload decodes to the vector request', () => {
    expect(name === 'json' ? decodeJson(payload) : decodeMsgpack(payload)).toEqual(v.request);
  });

  it('the negative wrongSigner sig does not verify', () => {
    const wrong = Buffer.from(v.negative.wrongSigner, 'base64url');
    expect(wrong).toHaveLength(64);
    expect(verifyBytes(callerPublic, signedBytes(cred, payload), wrong)).toBe(false);
  });

  it('a tampered payload byte fails (every position)', () => {
    for (let i = 0; i < payload.length; i++) {
      expect(verifyBytes(callerPublic, signedBytes(cred, flipByte(payload, i)), sig), `byte ${i}`).toBe(false);
    }
  });

  it('a tampered sig byte fails (every position)', () => {
    for (let i = 0; i < sig.length; i++) {
      expect(verifyBytes(callerPublic, signedBytes(cred, payload), flipByte(sig, i)), `byte ${i}`).toBe(false);
    }
  });

  it('a tampered cred character fails the request signature (every position)', () => {
    for (let i = 0; i < cred.length; i++) {
      expect(verifyBytes(callerPublic, signedBytes(changeChar(cred, i), payload), sig), `char ${i}`).toBe(false);
    }
  });

  it('a truncated or extended payload fails', () => {
    expect(verifyBytes(callerPublic, signedBytes(cred, payload.subarray(0, -1)), sig)).toBe(false);
    expect(verifyBytes(callerPublic, signedBytes(cred, Buffer.concat([payload, Buffer.from(' ')])), sig)).toBe(false);
  });
});

describe('envelope vectors', () => {
  it('buildEnvelope with the vector request reproduces the JSON envelope', () => {
    const body = buildEnvelope(cred, callerPrivate, v.request, 'json');
    expect(Buffer.from(body).toString('utf8')).toBe(v.json.envelope);
  });

  it('buildEnvelope with the vector request reproduces the MessagePack envelope', () => {
    const body = buildEnvelope(cred, callerPrivate, v.request, 'msgpack');
    expect(Buffer.from(body).toString('hex')).toBe(v.msgpack.envelopeHex);
  });

  it('parseEnvelope of the JSON envelope yields the vector cred, payload and sig', () => {
    const env = parseEnvelope(Buffer.from(v.json.envelope, 'utf8'), 'json');
    expect(env.cred).toBe(cred);
    expect(Buffer.from(env.payload).equals(jsonPayload)).toBe(true);
    expect(Buffer.from(env.sig).equals(jsonSig)).toBe(true);
    expect(verifyBytes(callerPublic, signedBytes(env.cred, env.payload), env.sig)).toBe(true);
  });

  it('parseEnvelope of the MessagePack envelope yields the vector cred, payload and sig', () => {
    const env = parseEnvelope(Buffer.from(v.msgpack.envelopeHex, 'hex'), 'msgpack');
    expect(env.cred).toBe(cred);
    expect(Buffer.from(env.payload).equals(msgpackPayload)).toBe(true);
    expect(Buffer.from(env.sig).equals(msgpackSig)).toBe(true);
    expect(decodeMsgpack(env.payload)).toEqual(v.request);
    expect(verifyBytes(callerPublic, signedBytes(env.cred, env.payload), env.sig)).toBe(true);
  });
});

describe('CredentialVerifier', () => {
  const SKEW_MS = 60_000;
  const trusted = () => new CredentialVerifier([v.issuerKey.x], SKEW_MS);
  const iat = (v.credential.claims as { iat: number }).iat;
  const T = iat * 1000; // a fixed "now" for the time checks

  /** A JWS signed by `key` over exactly the given header and claims. */
  function craft(claims: object, header: object = { alg: 'EdDSA', typ: 'JWT' }, key = issuerPrivate): string {
    const enc = (x: object) => toBase64url(Buffer.from(JSON.stringify(x), 'utf8'));
    const input = `${enc(header)}.${enc(claims)}`;
    return `${input}.${toBase64url(signBytes(key, Buffer.from(input, 'ascii')))}`;
  }
  const baseClaims = v.credential.claims;

  function expectRejected(verifier: CredentialVerifier, text: string, now = T): void {
    let thrown: unknown;
    try {
      verifier.verify(text, now);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(UnauthenticatedError);
    expect(thrown).toMatchObject({ status: 401, code: 'unauthenticated' });
  }

  it('accepts the vector credential when its issuer is trusted', () => {
    const c = trusted().verify(cred, T);
    expect(c).toMatchObject({
      slug: 'deploy-svc', admin: false, issuer: v.issuerKey.x, keyId: v.callerKey.x, expiresAtMs: null, notBeforeMs: null,
    });
    // The key the worker will check request signatures with is the cnf key.
    expect(verifyBytes(c.publicKey, signedBytes(cred, jsonPayload), jsonSig)).toBe(true);
  });

  it('accepts it among several trusted issuers', () => {
    const verifier = new CredentialVerifier([generateJwk().x, v.issuerKey.x], SKEW_MS);
    expect(verifier.verify(cred, T).slug).toBe('deploy-svc');
  });

  it('rejects an untrusted issuer', () => {
    expectRejected(new CredentialVerifier([generateJwk().x], SKEW_MS), cred);
  });

  it('rejects a credential naming a trusted iss but signed by another key', () => {
    expectRejected(trusted(), craft(baseClaims, undefined, privateKeyObject(generateJwk())));
  });

  it('rejects alg none (the negative vector) and other algs', () => {
    expectRejected(trusted(), v.negative.credentialAlgNone);
    expectRejected(trusted(), craft(baseClaims, { alg: 'HS256', typ: 'JWT' }));
    expectRejected(trusted(), craft(baseClaims, { typ: 'JWT' }));
  });

  it('rejects strings that are no compact JWS with 401 (the envelope only checks the type)', () => {
    for (const text of ['abc.def', `${cred}=`, ` ${cred}`, '', 'a.b.c', 'ünïcode.x.y']) expectRejected(trusted(), text);
  });

  it('rejects a typ other than JWT, and accepts an absent typ', () => {
    expectRejected(trusted(), craft(baseClaims, { alg: 'EdDSA', typ: 'JOSE+JSON' }));
    expect(trusted().verify(craft(baseClaims, { alg: 'EdDSA' }), T).slug).toBe('deploy-svc');
  });

  it('rejects a tampered credential (claims or signature changed)', () => {
    const [h, p, s] = cred.split('.') as [string, string, string];
    expectRejected(trusted(), `${h}.${changeChar(p, Math.floor(p.length / 2))}.${s}`);
    expectRejected(trusted(), `${h}.${p}.${changeChar(s, 10)}`);
    expectRejected(trusted(), `${h}.${p}`);
  });

  it.each([
    ['uppercase', 'Deploy-svc'],
    ['underscore', 'deploy_svc'],
    ['leading hyphen', '-deploy'],
    ['trailing hyphen', 'deploy-'],
    ['empty', ''],
    ['65 chars', 'a'.repeat(65)],
    ['slash', 'deploy/svc'],
  ])('rejects a bad sub slug (%s)', (_label, sub) => {
    expectRejected(trusted(), craft({ ...baseClaims, sub }));
  });

  it('accepts a 64-char slug', () => {
    expect(trusted().verify(craft({ ...baseClaims, sub: 'a'.repeat(64) }), T).slug).toBe('a'.repeat(64));
  });

  it('reads admin: true and rejects a non-boolean admin', () => {
    expect(trusted().verify(craft({ ...baseClaims, admin: true }), T).admin).toBe(true);
    expectRejected(trusted(), craft({ ...baseClaims, admin: 'true' }));
  });

  describe('exp (issueCredential with explicit now)', () => {
    const ttl = 3600;
    const text = issueCredential({
      issuerKey: issuerPrivate, issuer: v.issuerKey.x, slug: 'deploy-svc', subjectKey: v.callerKey.x, ttlSeconds: ttl, now: T,
    });
    const expMs = T + ttl * 1000;

    it('reports the expiry', () => {
      expect(trusted().verify(text, T).expiresAtMs).toBe(expMs);
    });

    it('accepts before exp and within the skew allowance after it', () => {
      expect(trusted().verify(text, expMs - 1).slug).toBe('deploy-svc');
      expect(trusted().verify(text, expMs + SKEW_MS / 2).slug).toBe('deploy-svc');
      expect(trusted().verify(text, expMs + SKEW_MS).slug).toBe('deploy-svc');
    });

    it('rejects past exp + skew', () => {
      expectRejected(trusted(), text, expMs + SKEW_MS + 1);
      expectRejected(trusted(), text, expMs + 10 * SKEW_MS);
    });

    it('rejects once expired even after an earlier acceptance (cache)', () => {
      const verifier = trusted();
      expect(verifier.verify(text, T).slug).toBe('deploy-svc');
      expectRejected(verifier, text, expMs + SKEW_MS + 1);
    });

    it('honours a different skew setting', () => {
      const strict = new CredentialVerifier([v.issuerKey.x], 0);
      expect(strict.verify(text, expMs).slug).toBe('deploy-svc');
      expectRejected(strict, text, expMs + 1);
    });
  });

  describe('nbf (crafted claims)', () => {
    const nbf = iat + 3600;
    const nbfMs = nbf * 1000;
    const text = craft({ ...baseClaims, nbf });

    it('rejects before nbf - skew', () => {
      expectRejected(trusted(), text, nbfMs - SKEW_MS - 1);
      expectRejected(trusted(), text, T);
    });

    it('accepts within the skew allowance before nbf, and after nbf', () => {
      expect(trusted().verify(text, nbfMs - SKEW_MS).slug).toBe('deploy-svc');
      expect(trusted().verify(text, nbfMs - 1).slug).toBe('deploy-svc');
      expect(trusted().verify(text, nbfMs + 1).notBeforeMs).toBe(nbfMs);
    });

    it('rejects a not-yet-valid credential even after it was accepted later in time (cache)', () => {
      const verifier = trusted();
      expect(verifier.verify(text, nbfMs).slug).toBe('deploy-svc');
      expectRejected(verifier, text, nbfMs - SKEW_MS - 1);
    });
  });

  it('a rejection is repeated for the same text (reject cache stays 401)', () => {
    const verifier = new CredentialVerifier([generateJwk().x], SKEW_MS);
    expectRejected(verifier, cred);
    expectRejected(verifier, cred);
  });
});
