/**
 * fast-check generators of hostile requests: each case is a subject op and body bytes that
 * a correct worker must refuse with a 4xx reply. Kinds: random bytes, truncated envelopes,
 * oversized bodies, wrong envelope types and prototype keys, deep nesting, lying msgpack
 * lengths, invalid UTF-8, hostile credentials, bad signatures, and valid signatures over
 * hostile payloads (whose request objects are checked to really be invalid).
 */
import type { KeyObject } from 'node:crypto';
import fc from 'fast-check';
import {
  decodeJson, decodeMsgpack, generateJwk, generateSessionKeyPair, OPS, privateKeyObject, requestHead, requestSchemas, signBytes, signedBytes,
  toBase64url,
  type Encoding, type Op,
} from '@secret-svc/protocol/internal';
import type { TestCaller, TestIssuer } from '../helpers/identities.js';
import { mapOf, mpBin, mpMapHeader, mpStrBytes, toJsonText, toMsgpack, type Wire } from './wire-bytes.js';

export interface Case {
  op: Op;
  body: Uint8Array;
  kind: string;
}

export interface FuzzIdentities {
  trusted: TestCaller;
  /** Credentials a worker trusting only `issuer` must refuse. */
  untrusted: TestCaller;
  expired: TestCaller;
  maxEnvelopeBytes: number;
  audience: string;
  maxSkewMs: number;
}

export function fuzzIdentities(issuer: TestIssuer, stranger: TestIssuer, o: { maxEnvelopeBytes: number; audience?: string; maxSkewMs?: number }): FuzzIdentities {
  return {
    trusted: issuer.caller('fuzz-svc'),
    untrusted: stranger.caller('fuzz-svc', { admin: true }),
    expired: issuer.caller('fuzz-svc', { now: Date.now() - 3_600_000, ttlSeconds: 60 }),
    maxEnvelopeBytes: o.maxEnvelopeBytes,
    audience: o.audience ?? 'secret-svc',
    maxSkewMs: o.maxSkewMs ?? 60_000,
  };
}

const enc = new TextEncoder();
const keyObjects = new WeakMap<TestCaller, KeyObject>();
function keyOf(c: TestCaller): KeyObject {
  let k = keyObjects.get(c);
  if (!k) keyObjects.set(c, (k = privateKeyObject(c.key)));
  return k;
}
const strangerKey = privateKeyObject(generateJwk());

const opArb = fc.constantFrom(...OPS);
const encodingArb = fc.constantFrom<Encoding>('json', 'msgpack');
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];
const keyNameArb = fc.oneof(fc.constantFrom(...PROTO_KEYS, 'cred', 'payload', 'sig', 'op', 'key', ''), fc.string({ maxLength: 12 }));

/** Arbitrary wire values, including prototype keys, bins, raw bytes and odd numbers. */
export const wireArb: fc.Arbitrary<Wire> = fc.letrec<{ v: Wire }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', maxDepth: 3 },
    fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.constantFrom(0, -1, 2 ** 53, -(2 ** 63), 1e308, 0.5),
    fc.string({ maxLength: 40 }), fc.constantFrom('', '\u0000', 'a\nb', '\ud800', '\u202e', 'x'.repeat(300)),
    fc.uint8Array({ maxLength: 80 }).map((bin) => ({ bin })),
    fc.uint8Array({ maxLength: 20 }).map((raw) => ({ raw })),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.array(fc.tuple(keyNameArb, tie('v')), { maxLength: 4 }).map((map) => ({ map })),
  ),
})).v;

// Built from characters rather than fc.stringMatching, which costs ~0.3 ms a value.
const SEGMENT_CHARS = 'ABCXYZabcxyz0189_.-'.split('');
const keySegmentArb = fc.array(fc.constantFrom(...SEGMENT_CHARS), { minLength: 1, maxLength: 12 })
  .map((cs) => cs.join(''))
  .filter((s) => s !== '.' && s !== '..');

/** A valid request object for `op` (fresh head), the base for mutations and bad signatures. */
function validRequestArb(op: Op, audience: string): fc.Arbitrary<Record<string, unknown>> {
  const key = keySegmentArb.map((s) => `fuzz-svc/${s}`);
  const fields: fc.Arbitrary<Record<string, unknown>> = {
    whoami: fc.constant({}),
    read: fc.oneof(key.map((k) => ({ key: k })), fc.uniqueArray(key, { minLength: 1, maxLength: 4 }).map((keys) => ({ keys }))),
    list: fc.record({ prefix: fc.constantFrom('fuzz-svc/', ''), limit: fc.integer({ min: 1, max: 1000 }) }, { requiredKeys: [] }),
    create: fc.record({ key, value: fc.string({ maxLength: 30 }) }),
    update: fc.record({ key, value: fc.string({ maxLength: 30 }) }),
    versions: fc.record({ key }),
    delete: fc.record({ key }),
    // A jti no fuzz identity carries: a revoke accepted here blocks nobody.
    revoke: fc.record({ jti: keySegmentArb.map((s) => `fuzz-jti-${s}`) }),
    unrevoke: fc.record({ jti: keySegmentArb.map((s) => `fuzz-jti-${s}`) }),
    revocations: fc.constant({}),
    session: fc.constant(null).map(() => ({ epk: toBase64url(generateSessionKeyPair().publicKey) })),
    // wait 0: a fuzzed watch is answered at once, never held.
    watch: fc.record({ prefix: fc.constantFrom('fuzz-svc/', ''), wait: fc.constant(0) }),
  }[op];
  return fields.map((f) => ({ ...requestHead(op, audience), ...f }));
}

/** True when the worker would accept this decoded request on `op` (so it is not hostile). */
function acceptable(op: Op, value: unknown, ids: FuzzIdentities): boolean {
  const parsed = requestSchemas[op].safeParse(value);
  if (!parsed.success) return false;
  const r = parsed.data as { op: string; aud: string; ts: number };
  return r.op === op && r.aud === ids.audience && Math.abs(Date.now() - r.ts) <= ids.maxSkewMs - 5_000;
}

function decodesTo(bytes: Uint8Array, encoding: Encoding): unknown {
  try {
    return encoding === 'json' ? decodeJson(bytes) : decodeMsgpack(bytes);
  } catch {
    return Symbol('undecodable');
  }
}

type Mutation = (m: [string, Wire][]) => [string, Wire][];

/** Changes that should make a valid request invalid (checked afterwards by `acceptable`). */
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  // drop a field
  fc.nat().map((i): Mutation => (m) => m.filter((_, j) => j !== i % m.length)),
  // a field gets a hostile value
  fc.tuple(fc.nat(), wireArb).map(([i, v]): Mutation => (m) => m.map(([k, x], j) => [k, j === i % m.length ? v : x])),
  // an unknown or prototype field is added
  fc.tuple(keyNameArb, wireArb).map(([k, v]): Mutation => (m) => [...m, [k, v]]),
  fc.tuple(fc.constantFrom(...PROTO_KEYS), wireArb).map(([k, v]): Mutation => (m) => [[k, v], ...m]),
  // head fields that are well typed but wrong
  fc.constantFrom<Mutation>(
    (m) => m.map(([k, x]) => [k, k === 'aud' ? 'other-svc' : x]),
    (m) => m.map(([k, x]) => [k, k === 'ts' ? Date.now() - 3_600_000 : x]),
    (m) => m.map(([k, x]) => [k, k === 'ts' ? Date.now() + 3_600_000 : x]),
    (m) => m.map(([k, x]) => [k, k === 'ts' ? Date.now() + 0.5 : x]),
    (m) => m.map(([k, x]) => [k, k === 'nonce' ? 'short' : x]),
    (m) => m.map(([k, x]) => [k, k === 'nonce' ? 'n'.repeat(65) : x]),
    (m) => m.map(([k, x]) => [k, k === 'key' ? 'fuzz-svc/../x' : x]),
    (m) => m.map(([k, x]) => [k, k === 'key' ? `fuzz-svc/${'k'.repeat(300)}` : x]),
    (m) => m.map(([k, x]) => [k, k === 'op' ? 'r\r\nead' : x]),
  ),
  // the request claims another op than the subject's
  opArb.map((op): Mutation => (m) => m.map(([k, x]) => [k, k === 'op' ? `${op}-not` : x])),
);

/** Bytes of a valid request for `op` with one or more mutations, that the worker must refuse. */
function hostileRequestBytes(op: Op, encoding: Encoding, ids: FuzzIdentities): fc.Arbitrary<{ bytes: Uint8Array; text?: string }> {
  return fc.tuple(validRequestArb(op, ids.audience), fc.array(mutationArb, { minLength: 1, maxLength: 3 }))
    .map(([req, muts]) => {
      const wire = { map: muts.reduce((m, f) => f(m), mapOf(req).map) };
      if (encoding === 'json') {
        const text = toJsonText(wire);
        return { bytes: enc.encode(text), text };
      }
      return { bytes: toMsgpack(wire) };
    })
    .filter(({ bytes }) => !acceptable(op, decodesTo(bytes, encoding), ids));
}

/** An envelope body around `payload` with the given credential and signature. */
function envelopeBytes(encoding: Encoding, cred: string, payload: Uint8Array, sig: Uint8Array): Uint8Array {
  if (encoding === 'json') {
    return enc.encode(JSON.stringify({ cred, payload: Buffer.from(payload).toString('utf8'), sig: Buffer.from(sig).toString('base64url') }));
  }
  return Buffer.concat([mpMapHeader(3), mpStrBytes(enc.encode('cred')), mpStrBytes(enc.encode(cred)), mpStrBytes(enc.encode('payload')), mpBin(payload), mpStrBytes(enc.encode('sig')), mpBin(sig)]);
}

function signedBody(encoding: Encoding, caller: TestCaller, payload: Uint8Array): Uint8Array {
  return envelopeBytes(encoding, caller.credential, payload, signBytes(keyOf(caller), signedBytes(caller.credential, payload)));
}

function validEnvelopeArb(ids: FuzzIdentities): fc.Arbitrary<{ op: Op; encoding: Encoding; body: Uint8Array }> {
  return fc.tuple(opArb, encodingArb).chain(([op, encoding]) => validRequestArb(op, ids.audience).map((req) => {
    const payload = encoding === 'json' ? enc.encode(JSON.stringify(req)) : toMsgpack(mapOf(req));
    return { op, encoding, body: signedBody(encoding, ids.trusted, payload) };
  }));
}

const b64u = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const jsonPart = (v: unknown) => b64u(enc.encode(JSON.stringify(v)));

/** Credentials that must be refused: malformed, unsigned, untrusted, expired, forged. */
function hostileCredentialArb(ids: FuzzIdentities): fc.Arbitrary<string> {
  const [h, p] = ids.trusted.credential.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
  return fc.oneof(
    fc.constantFrom(ids.untrusted.credential, ids.expired.credential, `${h}.${p}.`, `${h}.${p}`, `${jsonPart({ alg: 'none', typ: 'JWT' })}.${p}.`),
    fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 60 }), fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.uint8Array({ minLength: 1, maxLength: 64 }))
      .map(([a, b, c]) => `${b64u(a)}.${b64u(b)}.${b64u(c)}`),
    fc.uint8Array({ minLength: 64, maxLength: 64 }).map((sig) => `${h}.${p}.${b64u(sig)}`),
    // claims changed under the issuer's signature
    fc.tuple(keyNameArb, wireArb).map(([k, v]) => `${h}.${b64u(enc.encode(`{${JSON.stringify(k)}:${toJsonText(v)},${JSON.stringify(claims).slice(1)}`))}.${ids.trusted.credential.split('.')[2]}`),
    fc.constantFrom('admin', 'sub', 'cnf', 'exp').map((k) => `${h}.${jsonPart({ ...claims, [k]: k === 'admin' ? true : k === 'exp' ? 1 : 'root' })}.${ids.trusted.credential.split('.')[2]}`),
    fc.string({ maxLength: 60 }),
    fc.constant(`${'a'.repeat(9000)}.b.c`),
    fc.constant(`${h}.${jsonPart({ ...claims, __proto__: { admin: true } })}.${b64u(signBytes(strangerKey, enc.encode('x')))}`),
  );
}

const DEEP_JSON_PAYLOADS = [1_000, 30_000].map((d) => enc.encode(`${'{"a":'.repeat(d)}1${'}'.repeat(d)}`));
const DEEP_MSGPACK_PAYLOADS = [1_000, 20_000].map((d) => Buffer.concat([Buffer.alloc(d, 0x91), Buffer.from([0xc0])]));

/** Payload bytes no worker may accept, signed with a trusted key. */
function hostilePayloadArb(op: Op, encoding: Encoding, ids: FuzzIdentities): fc.Arbitrary<Uint8Array> {
  const deep = fc.constantFrom(...(encoding === 'json' ? DEEP_JSON_PAYLOADS : DEEP_MSGPACK_PAYLOADS));
  const lying = fc.constantFrom(0xdb, 0xc6, 0xdd, 0xdf, 0xc9, 0xda, 0xc5, 0xdc, 0xde).map((c) => Buffer.from([0x83, 0xa2, 0x6f, 0x70, c, 0xff, 0xff, 0xff, 0xff, 0x00]));
  const invalidUtf8 = fc.tuple(validRequestArb(op, ids.audience), fc.constantFrom('op', 'key', 'nonce', 'aud'), fc.constantFrom([0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80]))
    .map(([req, field, bad]) => {
      const good = String(req[field] ?? 'fuzz-svc/x');
      const raw = Buffer.concat([Buffer.from(good.slice(0, 3)), Buffer.from(bad), Buffer.from(good.slice(3))]);
      if (encoding === 'msgpack') return toMsgpack({ map: [...mapOf(req).map.filter(([k]) => k !== field), [field, { raw }]] });
      const text = JSON.stringify({ ...req, [field]: 'XX' });
      const at = text.indexOf('"XX"') + 1;
      return Buffer.concat([Buffer.from(text.slice(0, at)), raw, Buffer.from(text.slice(at + 2))]);
    });
  return fc.oneof(
    { arbitrary: hostileRequestBytes(op, encoding, ids).map((r) => r.bytes), weight: 8 },
    { arbitrary: wireArb.map((w) => (encoding === 'json' ? enc.encode(toJsonText(w)) : toMsgpack(w))).filter((b) => !acceptable(op, decodesTo(b, encoding), ids)), weight: 3 },
    { arbitrary: fc.uint8Array({ maxLength: 200 }).filter((b) => !acceptable(op, decodesTo(b, encoding), ids)), weight: 2 },
    { arbitrary: fc.constantFrom('null', '[]', '1e999', '"x"', '{}', '{"op":1}', ' ', '').map((t) => enc.encode(t)), weight: 1 },
    { arbitrary: deep, weight: 1 },
    { arbitrary: lying, weight: 1 },
    { arbitrary: invalidUtf8, weight: 2 },
  );
}

/** Every kind of hostile case, weighted; `heavy` false leaves out the bulky ones (oversized, deep). */
export function hostileCaseArb(ids: FuzzIdentities, o: { heavy?: boolean } = {}): fc.Arbitrary<Case> {
  const heavy = o.heavy ?? true;
  const valid = validEnvelopeArb(ids);
  const kinds: fc.WeightedArbitrary<Case>[] = [
    { weight: 8, arbitrary: fc.tuple(opArb, fc.constantFrom('', ' ', '{', '\n\t{'), fc.uint8Array({ maxLength: 300 }))
      .map(([op, prefix, bytes]) => ({ op, body: Buffer.concat([Buffer.from(prefix), bytes]), kind: 'random bytes' })) },
    { weight: 8, arbitrary: fc.tuple(valid, fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }))
      .map(([e, f]) => ({ op: e.op, body: e.body.subarray(0, Math.floor(e.body.length * f)), kind: 'truncated' })) },
    { weight: 14, arbitrary: fc.tuple(opArb, encodingArb, fc.array(fc.tuple(keyNameArb, wireArb), { maxLength: 5 }), fc.boolean())
      .map(([op, encoding, extra, withBase]) => {
        const base: [string, Wire][] = withBase ? [['cred', ids.trusted.credential], ['payload', { bin: new Uint8Array(4) }], ['sig', { bin: new Uint8Array(64) }]] : [];
        const wire: Wire = { map: [...base.filter(([k]) => !extra.some(([e]) => e === k)), ...extra] };
        return { op, body: encoding === 'json' ? enc.encode(toJsonText(wire)) : toMsgpack(wire), kind: 'envelope fields' };
      }) },
    { weight: 3, arbitrary: fc.tuple(opArb, encodingArb, wireArb)
      .map(([op, encoding, w]) => ({ op, body: encoding === 'json' ? enc.encode(toJsonText(w)) : toMsgpack(w), kind: 'envelope not an object' })) },
    { weight: 4, arbitrary: fc.tuple(opArb, fc.constantFrom(0xdb, 0xc6, 0xdd, 0xdf, 0xc9, 0xda, 0xd9), fc.uint8Array({ maxLength: 20 }), fc.boolean())
      .map(([op, code, tail, nested]) => {
        const lie = Buffer.concat([Buffer.from([code, 0xff, 0xff, 0xff, 0xf0]), tail]);
        const body = nested ? Buffer.concat([mpMapHeader(3), mpStrBytes(enc.encode('cred')), lie]) : lie;
        return { op, body, kind: 'huge declared length' };
      }) },
    { weight: 6, arbitrary: fc.tuple(valid, fc.nat(), fc.constantFrom([0xff], [0xc3, 0x28], [0xed, 0xb0, 0x80], [0xf0, 0x28, 0x8c]))
      .filter(([e]) => e.encoding === 'json')
      .map(([e, at, bad]) => {
        const i = 1 + (at % (e.body.length - 2));
        return { op: e.op, body: Buffer.concat([e.body.subarray(0, i), Buffer.from(bad), e.body.subarray(i)]), kind: 'invalid UTF-8 body' };
      }) },
    { weight: 10, arbitrary: fc.tuple(opArb, encodingArb, hostileCredentialArb(ids)).chain(([op, encoding, cred]) =>
      validRequestArb(op, ids.audience).map((req) => {
        const payload = encoding === 'json' ? enc.encode(JSON.stringify(req)) : toMsgpack(mapOf(req));
        // Signed with the trusted caller's key: the credential is what must fail.
        return { op, body: envelopeBytes(encoding, cred, payload, signBytes(keyOf(ids.trusted), signedBytes(cred, payload))), kind: 'hostile credential' };
      })) },
    { weight: 8, arbitrary: fc.tuple(valid, fc.constantFrom('random', 'stranger', 'other payload', 'flipped'), fc.uint8Array({ minLength: 64, maxLength: 64 }))
      .map(([e, how, random]) => {
        const cred = ids.trusted.credential;
        const payload = e.encoding === 'json' ? enc.encode(JSON.stringify(requestHead(e.op, ids.audience))) : toMsgpack(mapOf({ ...requestHead(e.op, ids.audience) }));
        const sig = how === 'random' ? random
          : how === 'stranger' ? signBytes(strangerKey, signedBytes(cred, payload))
          : how === 'other payload' ? signBytes(keyOf(ids.trusted), signedBytes(cred, enc.encode(' ')))
          : (() => { const s = signBytes(keyOf(ids.trusted), signedBytes(cred, payload)); s[random[0]! % 64]! ^= 1 << (random[1]! % 8); return s; })();
        return { op: e.op, body: envelopeBytes(e.encoding, cred, payload, sig), kind: 'bad signature' };
      }) },
    { weight: 30, arbitrary: fc.tuple(opArb, encodingArb).chain(([op, encoding]) =>
      hostilePayloadArb(op, encoding, ids).map((payload) => ({ op, body: signedBody(encoding, ids.trusted, payload), kind: 'signed hostile payload' }))) },
  ];
  if (heavy) {
    // Bulky bodies are built once and reused: building 100 KB per case would dominate the run.
    const oversized = [1, 100, 4096].flatMap((extra) => ['{"cred":"', '', ' '].map((head) =>
      Buffer.concat([Buffer.from(head), Buffer.alloc(ids.maxEnvelopeBytes + extra - head.length, 0x61)])));
    // JSON nests up to the body limit. MessagePack stays shallower: @msgpack/msgpack spends
    // ~0.7 µs and ~0.5 KB per level (a 256 KB body of nested arrays costs ~180 ms; reported),
    // which would dominate the run without finding more.
    const deep = [
      ...[1_000, 10_000, 120_000].map((d) => Buffer.from(`${'['.repeat(d)}${']'.repeat(d)}`)),
      ...[1_000, 5_000, 20_000].flatMap((d) => [
        Buffer.concat([Buffer.alloc(d, 0x91), Buffer.from([0xc0])]),
        Buffer.concat([Buffer.alloc(2 * d, 0x81).map((b, i) => (i % 2 ? 0xa0 : b)), Buffer.from([0xc0])]), // {"": {"": …}}
      ]),
    ].filter((b) => b.length <= ids.maxEnvelopeBytes);
    kinds.push(
      { weight: 1, arbitrary: fc.tuple(opArb, fc.constantFrom(...oversized)).map(([op, body]) => ({ op, body, kind: 'oversized' })) },
      { weight: 1, arbitrary: fc.tuple(opArb, fc.constantFrom(...deep)).map(([op, body]) => ({ op, body, kind: 'deep nesting' })) },
    );
  }
  return fc.oneof(...kinds);
}

/** A handful of cases whose error message would echo CR/LF from the input (a NATS header cannot hold it). */
export function echoingCases(ids: FuzzIdentities): Case[] {
  const req = { ...requestHead('read', ids.audience), key: 'fuzz-svc/x' };
  return [
    { op: 'read', body: enc.encode('{"cred":"a.b.c","payload":"x","sig":"y","a\\nb":1}'), kind: 'envelope field with LF' },
    { op: 'read', body: toMsgpack({ map: [['cred', 'a.b.c'], ['x\r\ny', 1]] }), kind: 'msgpack envelope field with CRLF' },
    { op: 'read', body: signedBody('json', ids.trusted, enc.encode(JSON.stringify({ ...req, 'x\ny': 1 }))), kind: 'signed payload field with LF' },
    { op: 'read', body: signedBody('msgpack', ids.trusted, toMsgpack(mapOf({ ...req, op: 'r\r\nx' }))), kind: 'signed op with CRLF' },
  ];
}

/** A signed msgpack create whose value is not UTF-8: JSON refuses it (fatal decoder), so must msgpack. */
export function invalidUtf8ValueCase(ids: FuzzIdentities): Case {
  const req = { ...requestHead('create', ids.audience), key: 'fuzz-svc/utf8' };
  const payload = toMsgpack({ map: [...mapOf(req).map, ['value', { raw: Uint8Array.from([0x61, 0xff, 0xfe, 0x62]) }]] });
  return { op: 'create', body: signedBody('msgpack', ids.trusted, payload), kind: 'invalid UTF-8 value (msgpack)' };
}
