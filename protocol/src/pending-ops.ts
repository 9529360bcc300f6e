/**
 * The 1.1 operation not yet served (PROTOCOL.md §12 session): its request schema, kept
 * apart from OPS until the worker answers it.
 */
import { z } from 'zod';
import { requestHeadFields as head } from './schemas.js';
import { readX25519PublicKey } from './session/x25519.js';

export const OPS_1_1_PENDING = ['session'] as const;
export type PendingOp = (typeof OPS_1_1_PENDING)[number];
/** Pending ops resent like writes (PROTOCOL.md §3): none left (revoke and unrevoke are in WRITE_OPS). */
export const PENDING_WRITE_OPS: ReadonlySet<PendingOp> = new Set<PendingOp>();

export function isPendingOp(value: string): value is PendingOp {
  return (OPS_1_1_PENDING as readonly string[]).includes(value);
}

export const pendingRequestSchemas = {
  session: z.strictObject({
    op: z.literal('session'),
    ...head,
    epk: z.string().refine(
      (t) => typeof readX25519PublicKey(t) !== 'string',
      'epk must be canonical base64url of an X25519 public key below 2^255 - 19, not of small order',
    ),
  }),
} satisfies Record<PendingOp, z.ZodType>;

export type PendingRequestOf<O extends PendingOp> = z.infer<(typeof pendingRequestSchemas)[O]>;
