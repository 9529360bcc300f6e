/**
 * The `session` op (docs/protocol.md §12): a verified signed request carrying `epk` gets a fresh
 * X25519 key pair, the session keys sealed into a ticket, and — with a service key — the
 * reply signed, so a caller pinning that key knows a worker of this deployment answered.
 */
import type { KeyObject } from 'node:crypto';
import {
  agree, BadRequestError, deriveSessionKeys, generateSessionKeyPair, readX25519PublicKey, signHandshake, toBase64url,
  UnauthenticatedError, type SessionReply,
} from '@secret-svc/protocol/internal';
import type { Caller } from '../auth/caller.js';
import type { TicketBox } from './tickets.js';

export const DEFAULT_SESSION_TTL_SECONDS = 3600;

export interface HandshakeDeps {
  tickets: TicketBox;
  /** SECRET_SVC_SESSION_TTL in ms. */
  ttlMs: number;
  /** SECRET_SVC_SERVICE_KEY: replies are signed when it is set. */
  serviceKey?: KeyObject | undefined;
}

/**
 * The handshake reply for a caller whose signed `session` request verified. `epkText` is
 * checked again here (400), so the function is safe whatever validated the request.
 */
export function openSession(caller: Caller, epkText: string, nowMs: number, deps: HandshakeDeps): SessionReply {
  const epk = readX25519PublicKey(epkText);
  if (typeof epk === 'string') throw new BadRequestError(`"epk" ${epk}`);
  // The session ends with the credential: never after its exp.
  const expiresAtMs = Math.floor(Math.min(nowMs + deps.ttlMs, caller.expiresAtMs ?? Infinity));
  // Only inside the skew allowance does a verified credential get here already expired.
  if (expiresAtMs <= nowMs) throw new UnauthenticatedError('credential has expired');
  const own = generateSessionKeyPair();
  let shared: Buffer;
  try {
    shared = agree(own.privateKey, epk);
  } catch {
    throw new BadRequestError('"epk" gives no usable shared secret');
  }
  const keys = deriveSessionKeys(shared, epk, own.publicKey);
  const ticket = deps.tickets.seal({ caller, keys, expiresAtMs });
  const expiresAt = new Date(expiresAtMs).toISOString();
  const reply: SessionReply = { ticket, spk: toBase64url(own.publicKey), expiresAt };
  if (deps.serviceKey) reply.sig = signHandshake(deps.serviceKey, epk, own.publicKey, ticket, expiresAt);
  return reply;
}
