/** Binds a signed request to this subject, this audience and now (the nonce is checked in the store). */
import { BadRequestError, UnauthenticatedError, type Op } from '../../client/src/protocol/index.js';

export interface RequestHead {
  op: Op;
  aud: string;
  ts: number;
}

export function checkHead(head: RequestHead, subjectOp: Op, audience: string, maxSkewMs: number, now: number): void {
  if (head.op !== subjectOp) throw new BadRequestError(`"op" is "${head.op}" but the request came on the ${subjectOp} subject`);
  if (head.aud !== audience) throw new UnauthenticatedError('request "aud" does not name this service');
  if (Math.abs(now - head.ts) > maxSkewMs) throw new UnauthenticatedError('request "ts" is outside the allowed clock window');
}

/** How long a nonce must be remembered: while its ts is still inside the window. */
export function nonceTtlMs(ts: number, maxSkewMs: number, now: number): number {
  return Math.max(1000, ts + maxSkewMs - now + 1000);
}
