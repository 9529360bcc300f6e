/**
 * The request object, read only after its signature or session MAC verified: decoded, its `op`
 * bound to the subject, checked against the op's strict schema, then bound to this
 * audience and the clock window.
 */
import type { z } from 'zod';
import {
  BadRequestError, describeIssue, quoteInput, requestSchemas, UnauthenticatedError, type Op, type RequestOf,
} from '@secret-svc/protocol/internal';
import { fastRead } from './read-fast-path.js';

// The same schemas, typed per op, so that schemas[op] parses to RequestOf<O> for a generic O.
const schemas: { [O in Op]: z.ZodType<RequestOf<O>> } = requestSchemas;

/** A decoded request object (a signed payload, or a session's opened one) checked for `op`. Throws BadRequestError. */
export function checkRequest<O extends Op>(op: O, value: unknown): RequestOf<O> {
  const claimed = typeof value === 'object' && value !== null && Object.hasOwn(value, 'op') ? (value as { op: unknown }).op : undefined;
  if (typeof claimed === 'string' && claimed !== op) {
    throw new BadRequestError(`"op" is ${quoteInput(claimed, 32)} but the request came on the ${op} subject`);
  }
  // The hottest shape has a precompiled check; it only accepts, zod decides everything else.
  const fast = op === 'read' ? fastRead(value) : undefined;
  if (fast) return fast as RequestOf<O>;
  const parsed = schemas[op].safeParse(value);
  if (!parsed.success) throw new BadRequestError(describeIssue(parsed.error));
  return parsed.data;
}

/** `aud` names this service and `ts` is within the allowed skew of `nowMs`. Throws UnauthenticatedError. */
export function checkFreshness(head: { aud: string; ts: number }, audience: string, maxSkewMs: number, nowMs: number): void {
  if (head.aud !== audience) throw new UnauthenticatedError('request "aud" does not name this service');
  if (Math.abs(nowMs - head.ts) > maxSkewMs) throw new UnauthenticatedError('request "ts" is outside the allowed clock window');
}
