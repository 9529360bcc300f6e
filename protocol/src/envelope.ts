/** Signed envelopes (docs/protocol.md §3): building (client) and structural parsing (worker). */
import type { KeyObject } from 'node:crypto';
import { fromBase64url, toBase64url } from './base64url.js';
import { AmbiguousBodyError, decodeJson, decodeMsgpack, decodeUtf8, encodeBody, type Encoding } from './codec.js';
import { SIGNATURE_CONTEXT, type Op } from './constants.js';
import { BadRequestError, quoteInput } from './errors.js';
import { signBytes } from './keys.js';
import { randomSlice } from './random.js';

/** The body could not be decoded at all: the error reply goes out as JSON (docs/protocol.md §3). */
export class UndecodableBodyError extends BadRequestError {}

export interface Envelope {
  cred: string;
  payload: Uint8Array;
  sig: Uint8Array;
}

const CONTEXT = Buffer.from(SIGNATURE_CONTEXT, 'ascii');
const NEWLINE = Buffer.from('\n', 'ascii');
const MAX_CRED_LENGTH = 8192;

/** The exact bytes a request signature covers. */
export function signedBytes(cred: string, payload: Uint8Array): Buffer {
  return Buffer.concat([CONTEXT, Buffer.from(cred, 'ascii'), NEWLINE, payload]);
}

const NONCE_BYTES = 18;

/** A fresh request nonce: 24 base64url characters. */
export function newNonce(): string {
  return randomSlice(NONCE_BYTES).toString('base64url');
}

export interface RequestHead {
  op: Op;
  aud: string;
  ts: number;
  nonce: string;
}

export function requestHead(op: Op, aud: string, now = Date.now()): RequestHead {
  return { op, aud, ts: now, nonce: newNonce() };
}

/** Encodes and signs a request object into an envelope body. */
export function buildEnvelope(cred: string, key: KeyObject, request: object, encoding: Encoding): Uint8Array {
  const payload = encodeBody(request, encoding);
  const sig = signBytes(key, signedBytes(cred, payload));
  if (encoding === 'json') {
    return encodeBody({ cred, payload: decodeUtf8(payload), sig: toBase64url(sig) }, 'json');
  }
  return encodeBody({ cred, payload, sig }, 'msgpack');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** The envelope map of a body (signed or session), before its fields are checked. Throws BadRequestError. */
export function decodeEnvelopeObject(body: Uint8Array, encoding: Encoding): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = encoding === 'json' ? decodeJson(body) : decodeMsgpack(body);
  } catch (err) {
    if (err instanceof AmbiguousBodyError) throw new BadRequestError(`envelope refused: ${err.message}`);
    throw new UndecodableBodyError(`body is not valid ${encoding === 'json' ? 'JSON' : 'MessagePack'}`);
  }
  if (!isPlainObject(raw)) throw new BadRequestError('envelope must be an object');
  return raw;
}

/** Refuses a field outside `allowed` (400), naming it without its value. */
export function onlyFields(raw: Record<string, unknown>, allowed: readonly string[], what: string): void {
  const extra = Object.keys(raw).find((k) => !allowed.includes(k));
  if (extra !== undefined) throw new BadRequestError(`${what} has an unknown field ${quoteInput(extra)}`);
}

const SIGNED_FIELDS = ['cred', 'payload', 'sig'] as const;

/** Parses an envelope body's structure (no signature check). Throws BadRequestError. */
export function parseEnvelope(body: Uint8Array, encoding: Encoding): Envelope {
  return signedEnvelopeFields(decodeEnvelopeObject(body, encoding), encoding);
}

/** The fields of a decoded signed envelope (see parseEnvelope). */
export function signedEnvelopeFields(raw: Record<string, unknown>, encoding: Encoding): Envelope {
  onlyFields(raw, SIGNED_FIELDS, 'envelope');
  const { cred, payload, sig } = raw;
  // Only the type is the envelope's business: what the string holds is the credential
  // check's, which answers 401 for anything that is not a valid credential.
  if (typeof cred !== 'string' || cred.length > MAX_CRED_LENGTH) {
    throw new BadRequestError('envelope "cred" must be a string');
  }
  if (encoding === 'json') {
    if (typeof payload !== 'string') throw new BadRequestError('envelope "payload" must be a string');
    if (typeof sig !== 'string') throw new BadRequestError('envelope "sig" must be a base64url string');
    const sigBytes = fromBase64url(sig);
    if (sigBytes?.length !== 64) throw new BadRequestError('envelope "sig" must be base64url of 64 bytes');
    return { cred, payload: Buffer.from(payload, 'utf8'), sig: sigBytes };
  }
  if (!(payload instanceof Uint8Array)) throw new BadRequestError('envelope "payload" must be bin');
  if (!(sig instanceof Uint8Array) || sig.byteLength !== 64) throw new BadRequestError('envelope "sig" must be bin of 64 bytes');
  return { cred, payload, sig };
}

/** Decodes the signed payload into the request object. Throws BadRequestError. */
export function decodePayload(payload: Uint8Array, encoding: Encoding): unknown {
  try {
    return encoding === 'json' ? decodeJson(payload) : decodeMsgpack(payload);
  } catch (err) {
    if (err instanceof AmbiguousBodyError) throw new BadRequestError(`payload refused: ${err.message}`);
    throw new BadRequestError('payload is not a valid encoded request object');
  }
}
