/**
 * The protocol-level fixes of the security review (issue 9): small-order and non-canonical
 * Ed25519 keys, "__proto__" and duplicate keys in credentials, numeric dates beyond the Date
 * range, lone surrogates in JSON, non-canonical base64url.
 */
import { createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  BadRequestError, checkJsonText, CredentialError, decodeJson, decodePayload, ed25519PublicKeyProblem, fromBase64url, generateJwk, isPublicKeyText,
  parseCredential, tryParseCredential, parseEnvelope, privateKeyObject, publicKeyObject, PublicKeyError, signBytes, toBase64url,
  UnauthenticatedError, UndecodableBodyError,
} from '@secret-svc/protocol/internal';
import { CredentialVerifier } from '../../src/auth/credentials.js';
import { loadVectors, thrownBy } from './fixtures.js';

const v = loadVectors();
const issuerPrivate = privateKeyObject(v.issuerKey);
const baseClaims = v.credential.claims;
const T = (baseClaims as { iat: number }).iat * 1000;

const hex = (h: string) => Buffer.from(h, 'hex');
const P = 2n ** 255n - 19n;
const le = (n: bigint) => Buffer.from(n.toString(16).padStart(64, '0'), 'hex').reverse();
const withSign = (raw: Buffer) => Buffer.from([...raw.subarray(0, 31), raw[31]! | 0x80]);

const IDENTITY = `AQ${'A'.repeat(41)}`;
const ALL_ZERO = 'A'.repeat(43);
/** The eight small-order points: y in {0, 1, p−1, y8, p−y8}, with both signs where x ≠ 0. */
const SMALL_ORDER_Y = [
  le(0n), le(1n), le(P - 1n),
  hex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05'),
  hex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a'),
];
const SMALL_ORDER = [...SMALL_ORDER_Y, ...SMALL_ORDER_Y.map(withSign)];
/** R = identity, S = 0: valid under a small-order key for every message whose hash is a multiple of its order. */
const FORGED_SIG = Buffer.concat([Buffer.from([1]), Buffer.alloc(63)]);

/** A JWS signed by the vector issuer over exactly the given header and claims text. */
function craftRaw(claimsJson: string, headerJson = '{"alg":"EdDSA","typ":"JWT"}'): string {
  const enc = (text: string) => toBase64url(Buffer.from(text, 'utf8'));
  const input = `${enc(headerJson)}.${enc(claimsJson)}`;
  return `${input}.${toBase64url(signBytes(issuerPrivate, Buffer.from(input, 'ascii')))}`;
}
const craft = (claims: object) => craftRaw(JSON.stringify(claims));
const rejectedReason = (text: string) => {
  const err = thrownBy(() => parseCredential(text));
  expect(err).toBeInstanceOf(CredentialError);
  expect(err).toBeInstanceOf(UnauthenticatedError); // 401 on the wire
  return (err as CredentialError).message;
};
function expect401(text: string, now = T): UnauthenticatedError {
  const err = thrownBy(() => new CredentialVerifier([v.issuerKey.x], 60_000).verify(text, now));
  expect(err).toBeInstanceOf(UnauthenticatedError);
  return err as UnauthenticatedError;
}

describe('small-order and non-canonical Ed25519 public keys', () => {
  it('node really accepts the forged signature under the identity key (why the check exists)', () => {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: IDENTITY }, format: 'jwk' });
    expect(verify(null, Buffer.from('any message'), key, FORGED_SIG)).toBe(true);
  });

  it.each(SMALL_ORDER.map((raw) => [raw.toString('hex'), raw] as const))('refuses the small-order point %s', (_hex, raw) => {
    expect(ed25519PublicKeyProblem(raw)).toBe('is a point of small order');
    expect(isPublicKeyText(toBase64url(raw))).toBe(false);
    expect(thrownBy(() => publicKeyObject(toBase64url(raw)))).toBeInstanceOf(PublicKeyError);
  });

  it('each listed point forges: some of 64 fixed messages verify with 01 || 0^63 under it', () => {
    for (const raw of SMALL_ORDER) {
      const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: toBase64url(raw) }, format: 'jwk' });
      const forges = Array.from({ length: 64 }, (_, i) => verify(null, Buffer.from(`m${i}`), key, FORGED_SIG));
      expect(forges.some(Boolean), raw.toString('hex')).toBe(true);
    }
  });

  it.each([
    ['p', le(P)],
    ['p + 1 (≡ 1)', le(P + 1n)],
    ['p + 18', le(P + 18n)],
    ['2^255 − 1 with the sign bit', withSign(le(2n ** 255n - 1n))],
  ])('refuses a non-canonical y (%s)', (_label, raw) => {
    expect(ed25519PublicKeyProblem(raw)).toMatch(/not canonical/);
    expect(isPublicKeyText(toBase64url(raw))).toBe(false);
  });

  it('accepts real keys, p − 20 and keys with either sign', () => {
    const x = generateJwk().x;
    expect(isPublicKeyText(x)).toBe(true);
    expect(ed25519PublicKeyProblem(le(P - 20n))).toBeUndefined();
    expect(ed25519PublicKeyProblem(withSign(fromBase64url(v.callerKey.x)!))).toBeUndefined();
  });

  it('a credential with cnf.x = the identity point is 401, so the forged request signature never counts', () => {
    const text = craft({ ...baseClaims, cnf: { jwk: { kty: 'OKP', crv: 'Ed25519', x: IDENTITY } } });
    expect(rejectedReason(text)).toContain('cnf key');
    expect401(text);
  });

  it('a credential with the all-zero cnf key, or a small-order iss, is 401', () => {
    expect401(craft({ ...baseClaims, cnf: { jwk: { kty: 'OKP', crv: 'Ed25519', x: ALL_ZERO } } }));
    expect(rejectedReason(craft({ ...baseClaims, iss: IDENTITY }))).toContain('iss');
  });

  it('a small-order issuer cannot be trusted at all', () => {
    expect(thrownBy(() => new CredentialVerifier([IDENTITY], 60_000))).toBeInstanceOf(PublicKeyError);
  });
});

describe('credential JSON: "__proto__", duplicate keys, own properties', () => {
  const claimsJson = JSON.stringify(baseClaims);
  const withField = (field: string) => `${claimsJson.slice(0, -1)},${field}}`;

  it('"__proto__": {"admin": true} is refused (401)', () => {
    const text = craftRaw(withField('"__proto__":{"admin":true}'));
    expect(rejectedReason(text)).toContain('__proto__');
    expect401(text);
  });

  it('"admin": false, "admin": true is refused (401)', () => {
    const text = craftRaw(withField('"admin":false,"admin":true'));
    expect(rejectedReason(text)).toContain('duplicate');
    expect401(text);
  });

  it('a key spelled twice with escapes is still a duplicate', () => {
    expect(rejectedReason(craftRaw(withField('"\\u0061dmin":true,"admin":false')))).toContain('duplicate');
  });

  it('duplicates inside cnf and in the header are refused', () => {
    const dupX = claimsJson.replace(/"x":"([^"]+)"/, '"x":"$1","x":"$1"');
    expect(dupX).not.toBe(claimsJson);
    expect(rejectedReason(craftRaw(dupX))).toContain('duplicate');
    expect(rejectedReason(craftRaw(claimsJson, '{"alg":"EdDSA","alg":"EdDSA"}'))).toContain('duplicate');
  });

  it('the same key in two different objects is fine, and unknown claims are dropped from the result', () => {
    const parsed = parseCredential(craftRaw(withField('"extra":{"sub":"x"}')));
    if (typeof parsed === 'string') throw new Error(parsed);
    expect(parsed.claims).toEqual(baseClaims);
    expect(Object.keys(parsed.claims)).not.toContain('extra');
  });

  it('admin is read only when present: absent stays absent', () => {
    const parsed = parseCredential(craft(baseClaims));
    if (typeof parsed === 'string') throw new Error(parsed);
    expect(Object.hasOwn(parsed.claims, 'admin')).toBe(false);
    const admin = parseCredential(craft({ ...baseClaims, admin: true }));
    if (typeof admin === 'string') throw new Error(admin);
    expect(admin.claims.admin).toBe(true);
  });
});

describe('numeric dates beyond the Date range (401, not 500)', () => {
  it.each([
    ['exp', { exp: 8.64e12 + 1 }],
    ['exp huge', { exp: 1e300 }],
    ['nbf', { nbf: 9e12 }],
    ['iat negative', { iat: -9e12 }],
  ])('%s', (_label, change) => {
    const text = craft({ ...baseClaims, ...change });
    expect(rejectedReason(text)).toContain('invalid');
    expect401(text);
  });

  it('accepts the edge of the range', () => {
    expect(() => parseCredential(craft({ ...baseClaims, exp: 8.64e12 }))).not.toThrow();
  });
});

describe('jti (1.1: 1 to 128 characters)', () => {
  it.each<[string, string, boolean]>([
    ['1 char', 'a', true],
    ['128 chars', 'j'.repeat(128), true],
    ['empty', '', false],
    ['129 chars', 'j'.repeat(129), false],
  ])('%s → %s', (_label, jti, ok) => {
    expect(tryParseCredential(craft({ ...baseClaims, jti })) !== undefined).toBe(ok);
  });
});

describe('checkJsonText', () => {
  it.each<[string, string, string | null]>([
    ['same key in sibling objects', '[{"a":1},{"a":2}]', null],
    ['same key at two levels', '{"a":{"a":1}}', null],
    ['key equal to a value', '{"a":"a","b":"a"}', null],
    ['empty objects and arrays', '{"a":{},"b":[],"c":[{}]}', null],
    ['an escaped backslash before u', '{"a":"\\\\ud800"}', null],
    ['an escaped quote inside a key', '{"a\\"b":1,"a\\"c":2}', null],
    ['a duplicate after a nested object', '{"a":{"b":1},"a":2}', 'an object has a duplicate key'],
    ['a duplicate after an array', '{"a":[1,{"a":1}],"a":2}', 'an object has a duplicate key'],
    ['"__proto__" nested in an array', '[{"__proto__":1}]', 'the key "__proto__" is not allowed'],
    ['"__proto__" spelled with an escape', '{"\\u005f_proto__":1}', 'the key "__proto__" is not allowed'],
    ['"__proto__" as a value', '{"a":"__proto__"}', null],
    ['a high surrogate followed by a non-surrogate escape', '{"a":"\\ud800\\u0041"}', 'a string holds a lone surrogate'],
    ['a high surrogate at the end of a string', '{"a":"x\\udbff"}', 'a string holds a lone surrogate'],
    ['two high surrogates', '{"a":"\\ud800\\ud800"}', 'a string holds a lone surrogate'],
  ])('%s', (_label, text, problem) => {
    expect(() => JSON.parse(text)).not.toThrow();
    expect(checkJsonText(text)).toBe(problem);
  });
});

describe('lone surrogates in JSON', () => {
  it('decodeJson refuses an escaped lone surrogate and accepts a pair', () => {
    expect(() => decodeJson(Buffer.from('{"value":"\\ud800"}'))).toThrow(/surrogate/);
    expect(() => decodeJson(Buffer.from('{"value":"x\\udc00y"}'))).toThrow(/surrogate/);
    expect(() => decodeJson(Buffer.from('{"\\ud800":1}'))).toThrow(/surrogate/);
    expect(decodeJson(Buffer.from('{"value":"\\ud83d\\ude00"}'))).toEqual({ value: '😀' });
  });

  it('a request payload holding one is 400', () => {
    const payload = Buffer.from('{"op":"create","aud":"secret-svc","ts":1,"nonce":"AAAAAAAAAAAAAAAA","key":"a/b","value":"\\ud800"}');
    const err = thrownBy(() => decodePayload(payload, 'json'));
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as Error).message).toContain('surrogate');
  });

  it('an envelope holding one, a duplicate or "__proto__" is 400 (readable, so not "undecodable")', () => {
    const env = JSON.parse(v.json.envelope) as Record<string, string>;
    for (const body of [
      `{"cred":"\\ud800","payload":${JSON.stringify(env.payload)},"sig":"${env.sig}"}`,
      `{"cred":"${env.cred}","cred":"${env.cred}","payload":${JSON.stringify(env.payload)},"sig":"${env.sig}"}`,
      `{"__proto__":{},"cred":"${env.cred}","payload":${JSON.stringify(env.payload)},"sig":"${env.sig}"}`,
    ]) {
      const err = thrownBy(() => parseEnvelope(Buffer.from(body), 'json'));
      expect(err).toBeInstanceOf(BadRequestError);
      expect(err).not.toBeInstanceOf(UndecodableBodyError);
    }
  });
});

describe('strict base64url', () => {
  it.each<[string, string, number[] | undefined]>([
    ['empty', '', []],
    ['one byte', 'AA', [0]],
    ['two bytes', 'AAE', [0, 1]],
    ['three bytes', 'AAEC', [0, 1, 2]],
    ['non-zero trailing bits (1 byte)', 'AB', undefined],
    ['non-zero trailing bits (2 bytes)', 'AAF', undefined],
    ['padding', 'AA==', undefined],
    ['standard alphabet +', 'A+', undefined],
    ['standard alphabet /', 'A/', undefined],
    ['white space', 'AA ', undefined],
    ['impossible length', 'AAAAA', undefined],
  ])('%s', (_label, text, bytes) => {
    const out = fromBase64url(text);
    expect(out === undefined ? undefined : [...out]).toEqual(bytes);
  });

  it('cnf.x with non-zero trailing bits (same bytes, another spelling) is 401', () => {
    const x = v.callerKey.x; // 43 characters: the last one carries 2 unused bits
    const alias = x.slice(0, -1) + 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(x.at(-1)!) | 1];
    expect(Buffer.from(alias, 'base64url').equals(Buffer.from(x, 'base64url'))).toBe(true);
    expect401(craft({ ...baseClaims, cnf: { jwk: { kty: 'OKP', crv: 'Ed25519', x: alias } } }));
  });

  it('a JWS part or the envelope sig spelled non-canonically is refused', () => {
    const [h, p, sig] = v.credential.text.split('.') as [string, string, string];
    const last = (t: string) => t.slice(0, -1) + (t.at(-1) === 'A' ? 'B' : String.fromCharCode(t.charCodeAt(t.length - 1) + 1));
    // 64-byte signatures are 86 characters: their last carries 4 unused bits
    expect(() => parseCredential(`${h}.${p}.${last(sig)}`)).toThrow(CredentialError);
    expect(() => parseCredential(`${h}.${p}.${sig}==`)).toThrow(CredentialError);
    expect(() => parseCredential(`${h}=.${p}.${sig}`)).toThrow(CredentialError);
    const env = JSON.parse(v.json.envelope) as Record<string, string>;
    expect(thrownBy(() => parseEnvelope(Buffer.from(JSON.stringify({ ...env, sig: last(env.sig!) })), 'json'))).toBeInstanceOf(BadRequestError);
  });
});
