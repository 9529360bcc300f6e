/**
 * Raw protocol access for integration tests: signed envelopes sent with a plain NATS
 * request, replies decoded by hand, and exact checks of error replies (docs/protocol.md §3, §5).
 */
import { createPrivateKey, randomBytes, sign } from 'node:crypto';
import { expect } from 'vitest';
import { headers as natsHeaders, type NatsConnection } from 'nats';
import {
  buildEnvelope, decodeBody, ERROR_CODES, privateKeyObject, requestHead, type Encoding, type ErrorStatus, type Op,
} from '@secret-svc/protocol';
import type { TestCaller } from './identities.js';

export const ENCODINGS: readonly Encoding[] = ['json', 'msgpack'];

export interface RawReply {
  /** The reply's body bytes. */
  data: Uint8Array;
  /** The encoding the reply body was sent in ("{" first = JSON). */
  encoding: Encoding;
  body: any;
  code: string | undefined;
  message: string | undefined;
}

/** The request object of `op` with a fresh head (ts now, new nonce) and the given fields. */
export function request(op: Op, fields: object = {}, head: Partial<{ op: string; aud: string; ts: number; nonce: string }> = {}): Record<string, unknown> {
  return { ...requestHead(op, 'secret-svc'), ...head, ...fields };
}

/** A signed envelope body built with the shared protocol code. */
export function envelope(caller: TestCaller, req: object, encoding: Encoding): Uint8Array {
  return buildEnvelope(caller.credential, privateKeyObject(caller.key), req, encoding);
}

/**
 * A JSON envelope built from docs/protocol.md alone with node:crypto: the signature covers
 * "secret-svc/v1\n" || cred || "\n" || payload. Proves an independent client can talk.
 */
export function handBuiltJsonEnvelope(caller: TestCaller, req: object): Uint8Array {
  const payload = JSON.stringify(req);
  const signed = Buffer.concat([
    Buffer.from('secret-svc/v1\n', 'ascii'), Buffer.from(caller.credential, 'ascii'), Buffer.from('\n', 'ascii'),
    Buffer.from(payload, 'utf8'),
  ]);
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: caller.key.x, d: caller.key.d }, format: 'jwk' });
  const sig = sign(null, signed, key).toString('base64url');
  return Buffer.from(JSON.stringify({ cred: caller.credential, payload, sig }), 'utf8');
}

export function nonce(): string {
  return randomBytes(18).toString('base64url');
}

export async function send(nc: NatsConnection, subject: string, body: Uint8Array, timeoutMs = 10_000): Promise<RawReply> {
  const msg = await nc.request(subject, body, { timeout: timeoutMs, headers: natsHeaders() });
  const encoding: Encoding = msg.data[0] === 0x7b ? 'json' : 'msgpack';
  let decoded: unknown;
  try {
    decoded = decodeBody(msg.data, encoding);
  } catch {
    decoded = undefined;
  }
  return {
    data: msg.data,
    encoding,
    body: decoded,
    code: msg.headers?.get('Nats-Service-Error-Code') || undefined,
    message: msg.headers?.get('Nats-Service-Error') || undefined,
  };
}

/** Signs `req` as `caller` and sends it to `<prefix>.<subjectOp>` (default: req.op). */
export function call(
  nc: NatsConnection, caller: TestCaller, req: Record<string, unknown>, encoding: Encoding, o: { subjectOp?: string; prefix?: string } = {},
): Promise<RawReply> {
  return send(nc, `${o.prefix ?? 'secret'}.${o.subjectOp ?? String(req.op)}`, envelope(caller, req, encoding));
}

/** Asserts an exact error reply: both headers, the body in `encoding`, status and code. */
export function expectError(reply: RawReply, status: ErrorStatus, encoding: Encoding): void {
  expect({ code: reply.code, encoding: reply.encoding }).toEqual({ code: String(status), encoding });
  expect(typeof reply.message).toBe('string');
  expect(reply.message!.length).toBeGreaterThan(0);
  expect(reply.body).toEqual({ error: { status, code: ERROR_CODES[status], message: reply.message } });
}

/** Asserts a success reply (no error headers, no top-level error) in `encoding`; returns its body. */
export function expectOk(reply: RawReply, encoding: Encoding): any {
  expect({ code: reply.code, message: reply.message, encoding: reply.encoding }).toEqual({ code: undefined, message: undefined, encoding });
  expect(reply.body).toBeTypeOf('object');
  expect(reply.body).not.toHaveProperty('error');
  return reply.body;
}

/** The status of a reply: 200 for a success, else the error header's number. */
export function statusOf(reply: RawReply): number {
  return reply.code === undefined ? 200 : Number(reply.code);
}

/** Polls `check` until it returns true (bounded); for waiting on a restart, never a timing assertion. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000, stepMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Decoded claims of a credential (for expected whoami replies). */
export function claimsOf(credential: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(credential.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/**
 * A credential signed by hand (node:crypto, no shared code), for claims and headers the
 * shared issuer will not produce (nbf, other alg/typ, invalid sub, no iat).
 */
export function handBuiltCredential(
  issuer: { x: string; d: string }, claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'EdDSA', typ: 'JWT' },
): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');
  const input = `${enc(header)}.${enc(claims)}`;
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: issuer.x, d: issuer.d }, format: 'jwk' });
  return `${input}.${sign(null, Buffer.from(input, 'ascii'), key).toString('base64url')}`;
}
