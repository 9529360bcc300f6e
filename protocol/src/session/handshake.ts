/** Opening a session (docs/protocol.md §12): the reply, and its signature by the service key. */
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { fromBase64url, toBase64url } from '../base64url.js';
import { signBytes, verifyBytes } from '../keys.js';
import { readX25519PublicKey } from './x25519.js';

export const TICKET_RE = /^[A-Za-z0-9_-]{1,1024}$/;

/** The success reply of `session`; `sig` only where the deployment has a service key. */
export interface SessionReply {
  ticket: string;
  spk: string;
  expiresAt: string;
  sig?: string;
}

/** What a caller accepts as a handshake reply (the client's check; the worker builds it). */
export const sessionReplySchema = z.strictObject({
  ticket: z.string().regex(TICKET_RE, 'ticket must be 1-1024 chars of [A-Za-z0-9_-]'),
  spk: z.string().refine((t) => typeof readX25519PublicKey(t) !== 'string', 'spk must be a usable X25519 public key'),
  expiresAt: z.iso.datetime(),
  sig: z.string().refine((t) => fromBase64url(t)?.length === 64, 'sig must be base64url of 64 bytes').optional(),
});

const CONTEXT = Buffer.from('secret-svc/v1 session-reply\n', 'ascii');
const NEWLINE = Buffer.from('\n', 'ascii');

/** "secret-svc/v1 session-reply\n" || epk || spk || ticket || "\n" || expiresAt (keys raw). */
export function handshakeSignedBytes(epk: Uint8Array, spk: Uint8Array, ticket: string, expiresAt: string): Buffer {
  return Buffer.concat([CONTEXT, epk, spk, Buffer.from(ticket, 'utf8'), NEWLINE, Buffer.from(expiresAt, 'utf8')]);
}

/** The worker's `sig` (base64url) with the service key. */
export function signHandshake(serviceKey: KeyObject, epk: Uint8Array, spk: Uint8Array, ticket: string, expiresAt: string): string {
  return toBase64url(signBytes(serviceKey, handshakeSignedBytes(epk, spk, ticket, expiresAt)));
}

/** True when the reply carries a valid `sig` by the service public key for this `epk`. */
export function verifyHandshake(servicePublicKey: KeyObject, epk: Uint8Array, reply: SessionReply): boolean {
  const sig = reply.sig === undefined ? undefined : fromBase64url(reply.sig);
  const spk = fromBase64url(reply.spk);
  if (sig?.length !== 64 || spk?.length !== 32) return false;
  return verifyBytes(servicePublicKey, handshakeSignedBytes(epk, spk, reply.ticket, reply.expiresAt), sig);
}

/**
 * The worker's one message (401) for a session ticket that does not open or has expired;
 * a client that sees it opens a new session.
 */
export const SESSION_INVALID_MESSAGE = 'session is no longer valid: open a new session';
