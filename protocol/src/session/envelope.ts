/**
 * Session envelopes and sealed replies (docs/protocol.md §12). The worker checks a request in
 * this order: shape (parseSessionEnvelope, 400), ticket (the worker's, 401), MAC
 * (checkSessionMac, 401), payload (openSessionPayload, 400), then the request object.
 */
import { fromBase64url, toBase64url } from '../base64url.js';
import { decodeBody, encodeBody, sniffEncoding, type Encoding } from '../codec.js';
import { decodeEnvelopeObject, decodePayload, onlyFields } from '../envelope.js';
import { BadRequestError, InternalError, UnauthenticatedError } from '../errors.js';
import type { SessionKeys } from './keys.js';
import { MAC_BYTES, macMatches, sessionMac } from './mac.js';
import { open, seal } from './seal.js';

export interface SessionEnvelope {
  ticket: string;
  /** The sealed request object (for JSON, the decoded base64url). */
  payload: Uint8Array;
  mac: Uint8Array;
}

/** What a caller holds of an open session. */
export interface SessionHandle {
  ticket: string;
  keys: SessionKeys;
}

const SESSION_FIELDS = ['ticket', 'payload', 'mac'] as const;

/** A decoded envelope map is a session envelope when it has a `ticket` or a `mac`. */
export function isSessionEnvelopeObject(raw: Record<string, unknown>): boolean {
  return Object.hasOwn(raw, 'ticket') || Object.hasOwn(raw, 'mac');
}

/** Parses a session envelope body's structure. Throws BadRequestError. */
export function parseSessionEnvelope(body: Uint8Array, encoding: Encoding): SessionEnvelope {
  return sessionEnvelopeFields(decodeEnvelopeObject(body, encoding), encoding);
}

/** The fields of a decoded session envelope: exactly ticket, payload, mac (no cred, no sig). */
export function sessionEnvelopeFields(raw: Record<string, unknown>, encoding: Encoding): SessionEnvelope {
  onlyFields(raw, SESSION_FIELDS, 'session envelope');
  const { ticket, payload, mac } = raw;
  // Only the type of the ticket is shape: a string that does not open is the ticket check's 401.
  if (typeof ticket !== 'string') throw new BadRequestError('session envelope "ticket" must be a string');
  if (encoding === 'json') {
    if (typeof payload !== 'string') throw new BadRequestError('session envelope "payload" must be a base64url string');
    const sealed = fromBase64url(payload);
    if (!sealed) throw new BadRequestError('session envelope "payload" must be canonical base64url');
    if (typeof mac !== 'string') throw new BadRequestError('session envelope "mac" must be a base64url string');
    const macBytes = fromBase64url(mac);
    if (macBytes?.length !== MAC_BYTES) throw new BadRequestError('session envelope "mac" must be base64url of 32 bytes');
    return { ticket, payload: sealed, mac: macBytes };
  }
  if (!(payload instanceof Uint8Array)) throw new BadRequestError('session envelope "payload" must be bin');
  if (!(mac instanceof Uint8Array) || mac.byteLength !== MAC_BYTES) {
    throw new BadRequestError('session envelope "mac" must be bin of 32 bytes');
  }
  return { ticket, payload, mac };
}

/** Throws UnauthenticatedError unless the envelope's MAC is right (compared in constant time). */
export function checkSessionMac(macKey: Uint8Array, envelope: SessionEnvelope): void {
  if (!macMatches(sessionMac(macKey, envelope.ticket, envelope.payload), envelope.mac)) {
    throw new UnauthenticatedError('session MAC is invalid');
  }
}

/** Opens and decodes the request object; it must be in the envelope's encoding. Throws BadRequestError. */
export function openSessionPayload(requestKey: Uint8Array, envelope: SessionEnvelope, encoding: Encoding): unknown {
  const bytes = open(requestKey, envelope.payload);
  if (!bytes) throw new BadRequestError('session payload does not open');
  if (sniffEncoding(bytes) !== encoding) throw new BadRequestError(`session payload is not ${encoding === 'json' ? 'JSON' : 'MessagePack'}`);
  return decodePayload(bytes, encoding);
}

export interface BuiltSessionRequest {
  body: Uint8Array;
  /** The request's MAC: the opened reply must start with it. */
  mac: Buffer;
}

/** Seals, MACs and encodes a request object (`nonce` only to reproduce test vectors). */
export function buildSessionEnvelope(session: SessionHandle, request: object, encoding: Encoding, nonce?: Uint8Array): BuiltSessionRequest {
  const sealed = seal(session.keys.requestKey, encodeBody(request, encoding), nonce);
  const mac = sessionMac(session.keys.macKey, session.ticket, sealed);
  const body = encoding === 'json'
    ? encodeBody({ ticket: session.ticket, payload: toBase64url(sealed), mac: toBase64url(mac) }, 'json')
    : encodeBody({ ticket: session.ticket, payload: sealed, mac }, 'msgpack');
  return { body, mac };
}

/** The body of a success reply: {sealed: seal(replyKey, mac || reply bytes)} (`nonce` only for vectors). */
export function sealSessionReply(
  replyKey: Uint8Array, requestMac: Uint8Array, replyBytes: Uint8Array, encoding: Encoding, nonce?: Uint8Array,
): Uint8Array {
  const sealed = seal(replyKey, Buffer.concat([requestMac, replyBytes]), nonce);
  return encodeBody({ sealed: encoding === 'json' ? toBase64url(sealed) : sealed }, encoding);
}

/** A success reply that does not open, or opens to another request's reply: refused by the caller. */
export class SessionReplyError extends InternalError {}

/** The reply bytes of a decoded `{sealed}` body, after checking they answer the request with `requestMac`. */
export function openSessionReply(replyKey: Uint8Array, requestMac: Uint8Array, body: unknown, encoding: Encoding): Buffer {
  const field = typeof body === 'object' && body !== null ? (body as { sealed?: unknown }).sealed : undefined;
  const sealed = encoding === 'json'
    ? (typeof field === 'string' ? fromBase64url(field) : undefined)
    : (field instanceof Uint8Array ? field : undefined);
  if (!sealed) throw new SessionReplyError('session reply has no sealed field');
  const opened = open(replyKey, sealed);
  if (!opened) throw new SessionReplyError('session reply does not open');
  if (opened.byteLength < MAC_BYTES || !macMatches(requestMac, opened.subarray(0, MAC_BYTES))) {
    throw new SessionReplyError('session reply answers another request');
  }
  return opened.subarray(MAC_BYTES);
}

/** openSessionReply, then the reply object decoded in the request's encoding. */
export function openSessionReplyObject(replyKey: Uint8Array, requestMac: Uint8Array, body: unknown, encoding: Encoding): unknown {
  const bytes = openSessionReply(replyKey, requestMac, body, encoding);
  try {
    return decodeBody(bytes, encoding);
  } catch {
    throw new SessionReplyError('session reply does not decode');
  }
}
