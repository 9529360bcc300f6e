/**
 * The 1.1 operations not yet served (PROTOCOL.md §10 revocation): their request schemas and
 * reply shapes, kept apart from OPS until the worker answers them.
 */
import { z } from 'zod';
import { JTI_MAX_LENGTH } from './credential.js';
import { isPublicKeyText } from './keys.js';
import { requestHeadFields as head, slugSchema } from './schemas.js';

export const OPS_1_1_PENDING = ['revoke', 'unrevoke', 'revocations'] as const;
export type PendingOp = (typeof OPS_1_1_PENDING)[number];
/** Resent like writes (PROTOCOL.md §3): a resend of the same bytes gets the first reply. */
export const PENDING_WRITE_OPS: ReadonlySet<PendingOp> = new Set<PendingOp>(['revoke', 'unrevoke']);

export function isPendingOp(value: string): value is PendingOp {
  return (OPS_1_1_PENDING as readonly string[]).includes(value);
}

/** Exactly one of {keyId} | {jti} | {slug, issuedBefore}. */
export type RevocationSelector = { keyId: string } | { jti: string } | { slug: string; issuedBefore: number };
export type RevocationEntry = RevocationSelector & { at: string; by: string };

export interface RevokeReply { revoked: RevocationSelector; at: string; by: string }
export interface UnrevokeReply { unrevoked: RevocationSelector }
export interface RevocationsReply { revocations: RevocationEntry[] }

const selectorFields = {
  keyId: z.string().refine(isPublicKeyText, 'keyId must be a canonical Ed25519 public key not of small order').optional(),
  jti: z.string().min(1).max(JTI_MAX_LENGTH).optional(),
  slug: slugSchema.optional(),
  issuedBefore: z.int().min(0).optional(),
};

type SelectorFields = { keyId?: string; jti?: string; slug?: string; issuedBefore?: number };

function isOneSelector(r: SelectorFields): boolean {
  const bySlug = r.slug !== undefined || r.issuedBefore !== undefined;
  if (bySlug && (r.slug === undefined || r.issuedBefore === undefined)) return false;
  return [r.keyId !== undefined, r.jti !== undefined, bySlug].filter(Boolean).length === 1;
}
const ONE_SELECTOR = 'give exactly one selector: {keyId}, {jti} or {slug, issuedBefore}';

export const pendingRequestSchemas = {
  revoke: z.strictObject({ op: z.literal('revoke'), ...head, ...selectorFields }).refine(isOneSelector, ONE_SELECTOR),
  unrevoke: z.strictObject({ op: z.literal('unrevoke'), ...head, ...selectorFields }).refine(isOneSelector, ONE_SELECTOR),
  revocations: z.strictObject({ op: z.literal('revocations'), ...head }),
} satisfies Record<PendingOp, z.ZodType>;

export type PendingRequestOf<O extends PendingOp> = z.infer<(typeof pendingRequestSchemas)[O]>;

/** The selector of a validated revoke or unrevoke request, with only its own fields. */
export function selectorOf(r: SelectorFields): RevocationSelector {
  if (r.keyId !== undefined) return { keyId: r.keyId };
  if (r.jti !== undefined) return { jti: r.jti };
  return { slug: r.slug!, issuedBefore: r.issuedBefore! };
}
