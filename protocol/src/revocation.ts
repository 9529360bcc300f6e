/**
 * Revocation (docs/protocol.md §10): the selector of `revoke`/`unrevoke`, its request fields and
 * the reply shapes. schemas.ts builds the request schemas from these fields.
 */
import { z } from 'zod';
import { SLUG_RE } from './constants.js';
import { JTI_MAX_LENGTH } from './credential.js';
import { isPublicKeyText } from './keys.js';

/** Exactly one of {keyId} | {jti} | {slug, issuedBefore}. */
export type RevocationSelector = { keyId: string } | { jti: string } | { slug: string; issuedBefore: number };
export type RevocationEntry = RevocationSelector & { at: string; by: string };

export interface RevokeReply { revoked: RevocationSelector; at: string; by: string }
export interface UnrevokeReply { unrevoked: RevocationSelector }
export interface RevocationsReply { revocations: RevocationEntry[] }

/** The selector fields of a request, each optional; `isOneSelector` says whether they form one. */
export const selectorFields = {
  keyId: z.string().refine(isPublicKeyText, 'keyId must be a canonical Ed25519 public key not of small order').optional(),
  jti: z.string().min(1).max(JTI_MAX_LENGTH).optional(),
  slug: z.string().regex(SLUG_RE, 'invalid slug').optional(),
  issuedBefore: z.int().min(0).optional(),
};

/** A request's or the CLI's selector fields, each optional. */
export type SelectorFields = { keyId?: string; jti?: string; slug?: string; issuedBefore?: number };

export function isOneSelector(r: SelectorFields): boolean {
  const bySlug = r.slug !== undefined || r.issuedBefore !== undefined;
  if (bySlug && (r.slug === undefined || r.issuedBefore === undefined)) return false;
  return [r.keyId !== undefined, r.jti !== undefined, bySlug].filter(Boolean).length === 1;
}
export const ONE_SELECTOR = 'give exactly one selector: {keyId}, {jti} or {slug, issuedBefore}';

/** The selector of a validated revoke or unrevoke request, with only its own fields. */
export function selectorOf(r: SelectorFields): RevocationSelector {
  if (r.keyId !== undefined) return { keyId: r.keyId };
  if (r.jti !== undefined) return { jti: r.jti };
  return { slug: r.slug!, issuedBefore: r.issuedBefore! };
}
