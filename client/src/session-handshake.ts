/**
 * Opening a session (docs/protocol.md §12) from the caller's side: a signed `session` request with
 * a fresh X25519 key, the reply checked (and its `sig` verified against a pinned service
 * key), the session keys derived.
 */
import type { KeyObject } from 'node:crypto';
import { isNoResponders } from './connection.js';
import {
  agree, buildEnvelope, deriveSessionKeys, fromBase64url, generateSessionKeyPair, newNonce, publicKeyObject,
  SecretSvcError, SessionReplyError, sessionReplySchema, toBase64url, verifyHandshake,
  type Encoding, type SessionHandle,
} from '@secret-svc/protocol';

/** Sends one request body and resolves with the decoded success reply; throws the error reply or the NATS error. */
export type SessionRequestFn = (subject: string, body: Uint8Array, timeoutMs: number) => Promise<unknown>;

export const SERVICE_PUBLIC_KEY_ENV = 'SECRET_SVC_SERVICE_PUBLIC_KEY';

/** A handshake reply refused: malformed, or not signed by the pinned service key. */
export class SessionHandshakeError extends SessionReplyError {}

export interface OpenedSession {
  handle: SessionHandle;
  /** expiresAt of the reply, epoch ms. */
  expiresAtMs: number;
  /** From then on a new session is opened in the background. */
  renewAtMs: number;
}

export interface HandshakeParams {
  request: SessionRequestFn;
  subject: string;
  credential: string;
  key: KeyObject;
  audience: string;
  encoding: Encoding;
  /** The pinned service key: the reply must carry its valid `sig`. */
  pinned: KeyObject | undefined;
  renewMarginMs: number;
  nowMs: number;
  timeoutMs: number;
}

/** No handshake reply in time for this call (named like the NATS timeouts the client retries). */
export class HandshakeTimeout extends Error {
  override readonly name = 'TimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`no session handshake reply within ${timeoutMs} ms`);
  }
}

/** The worker speaks 1.0: nobody serves the session subject, or it calls the op unknown (400). */
export class SessionsUnsupported extends Error {
  constructor(override readonly cause: unknown) {
    super('the service does not offer sessions');
  }
}

export async function handshake(p: HandshakeParams): Promise<OpenedSession> {
  const own = generateSessionKeyPair();
  const request = { op: 'session', aud: p.audience, ts: p.nowMs, nonce: newNonce(), epk: toBase64url(own.publicKey) };
  let raw: unknown;
  try {
    raw = await p.request(p.subject, buildEnvelope(p.credential, p.key, request, p.encoding), p.timeoutMs);
  } catch (err) {
    if (isNoResponders(err) || (err instanceof SecretSvcError && err.status === 400)) throw new SessionsUnsupported(err);
    throw err;
  }
  const parsed = sessionReplySchema.safeParse(raw);
  if (!parsed.success) throw new SessionHandshakeError('session handshake reply is malformed');
  const reply = parsed.data;
  if (p.pinned && !verifyHandshake(p.pinned, own.publicKey, reply)) {
    throw new SessionHandshakeError(reply.sig === undefined
      ? 'session handshake reply is not signed, but a service key is pinned'
      : 'session handshake reply is not signed by the pinned service key');
  }
  const spk = fromBase64url(reply.spk)!; // the schema checked it
  const keys = deriveSessionKeys(agree(own.privateKey, spk), own.publicKey, spk);
  const expiresAtMs = Date.parse(reply.expiresAt);
  // Renew a margin ahead, but never in the first half of a short session's life.
  const life = Math.max(0, expiresAtMs - p.nowMs);
  return { handle: { ticket: reply.ticket, keys }, expiresAtMs, renewAtMs: expiresAtMs - Math.min(p.renewMarginMs, life / 2) };
}

/** nats v2 errors carry `code`; transport-node 3.x throws classes named by the failure. */

/** The pinned service key from the option, else SECRET_SVC_SERVICE_PUBLIC_KEY; undefined when neither is set. */
export function pinnedServiceKey(option: string | undefined, env: Record<string, string | undefined>): KeyObject | undefined {
  const fromEnv = env[SERVICE_PUBLIC_KEY_ENV];
  const [text, source] = option !== undefined && option !== '' ? [option, 'servicePublicKey']
    : fromEnv !== undefined && fromEnv !== '' ? [fromEnv.trim(), SERVICE_PUBLIC_KEY_ENV] : [undefined, ''];
  if (text === undefined) return undefined;
  try {
    return publicKeyObject(text);
  } catch (err) {
    throw new Error(`${source}: not a usable Ed25519 public key (${(err as Error).message})`);
  }
}
