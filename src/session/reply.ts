/**
 * Success replies to session requests (docs/protocol.md §12): `{sealed: seal(replyKey, mac || reply)}`
 * in the request's encoding. Error replies stay in the clear (they never hold a value).
 */
import { encodeBody, sealSessionReply, type Encoding } from '@secret-svc/protocol/internal';
import type { SessionReplyKeys } from './request.js';

/** The body to send for `replyBytes`, the reply object already encoded in `encoding`. */
export function sealSuccessReply(keys: SessionReplyKeys, replyBytes: Uint8Array, encoding: Encoding): Uint8Array {
  return sealSessionReply(keys.replyKey, keys.mac, replyBytes, encoding);
}

/** The same for a reply object not yet encoded. */
export function sealSuccessObject(keys: SessionReplyKeys, reply: unknown, encoding: Encoding): Uint8Array {
  return sealSuccessReply(keys, encodeBody(reply, encoding), encoding);
}

/**
 * How many bytes an encoded reply of `replyBytes` bytes takes once sealed, at most: mac (32),
 * nonce (24), tag (16), base64url for JSON, and the `{sealed}` map around it.
 */
export function sealedReplyBytes(replyBytes: number, encoding: Encoding): number {
  const sealed = replyBytes + 32 + 24 + 16;
  return encoding === 'json' ? Math.ceil((sealed * 4) / 3) + 16 : sealed + 16;
}

/**
 * The largest encoded reply that still fits `maxBodyBytes` once sealed (the inverse of
 * sealedReplyBytes): a session read's byte budget, decided before any value is opened.
 */
export function largestSealableReply(maxBodyBytes: number, encoding: Encoding): number {
  const sealed = encoding === 'json' ? Math.floor(((maxBodyBytes - 16) * 3) / 4) : maxBodyBytes - 16;
  return Math.max(0, sealed - 32 - 24 - 16);
}
