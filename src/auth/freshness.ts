/**
 * Binds a signed request to this audience and now. (Its op is bound to the subject when the
 * request object is read, request/decode.ts; its nonce in the store.)
 */
import { UnauthenticatedError } from '@secret-svc/protocol';

export interface RequestHead {
  aud: string;
  ts: number;
}

export function checkHead(head: RequestHead, audience: string, maxSkewMs: number, now: number): void {
  if (head.aud !== audience) throw new UnauthenticatedError('request "aud" does not name this service');
  if (Math.abs(now - head.ts) > maxSkewMs) throw new UnauthenticatedError('request "ts" is outside the allowed clock window');
}

/** How long a nonce must be remembered: while its ts is still inside the window. */
export function nonceTtlMs(ts: number, maxSkewMs: number, now: number): number {
  return Math.max(1000, ts + maxSkewMs - now + 1000);
}
