/** Request MACs of a session (docs/protocol.md §12). */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { SESSION_CONTEXT } from './keys.js';

export const MAC_BYTES = 32;
const PREFIX = Buffer.from(`${SESSION_CONTEXT}\n`, 'ascii');
const NEWLINE = Buffer.from('\n', 'ascii');

/** HMAC-SHA256(macKey, "secret-svc/v1 session\n" || ticket || "\n" || payload), payload = the sealed bytes. */
export function sessionMac(macKey: Uint8Array, ticket: string, payload: Uint8Array): Buffer {
  return createHmac('sha256', macKey).update(PREFIX).update(ticket, 'utf8').update(NEWLINE).update(payload).digest();
}

/** Constant-time comparison of a received MAC with the expected one. */
export function macMatches(expected: Uint8Array, received: Uint8Array): boolean {
  return received.byteLength === expected.byteLength && timingSafeEqual(expected, received);
}
