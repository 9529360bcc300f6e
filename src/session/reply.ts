/**
 * Success replies to session requests (PROTOCOL.md §12): `{sealed: seal(replyKey, mac || reply)}`
 * in the request's encoding. Error replies stay in the clear (they never hold a value).
 */
import { encodeBody, sealSessionReply, type Encoding } from '@secret-svc/protocol';
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
 * How many bytes sealing adds to an encoded reply of `replyBytes` bytes, at most: mac (32),
 * nonce (24), tag (16), base64url for JSON, and the `{sealed}` map around it. The pipeline
 * compares the sealed body with the bus limit; this lets it say so before sealing.
 */
export function sealedReplyBytes(replyBytes: number, encoding: Encoding): number {
  const sealed = replyBytes + 32 + 24 + 16;
  return encoding === 'json' ? Math.ceil((sealed * 4) / 3) + 16 : sealed + 16;
}
