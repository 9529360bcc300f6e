/** What `issue` and `dev` put in every credential they sign: a random jti, and an expiry unless asked otherwise. */
import { randomBytes } from 'node:crypto';

/** `secret-svc issue` without --ttl: 90 days. */
export const DEFAULT_ISSUE_TTL_SECONDS = 90 * 86_400;

/** 16 random bytes, 22 base64url characters: unique enough to revoke one credential by it. */
export function newJti(): string {
  return randomBytes(16).toString('base64url');
}

/** "2026-12-29T10:00:00Z (in 30 days)", or "never" for a credential without exp. */
export function describeExpiry(expSeconds: number | undefined, nowMs: number): string {
  if (expSeconds === undefined) return 'never';
  const when = new Date(expSeconds * 1000).toISOString().replace(/\.000Z$/, 'Z');
  return `${when} (in ${humanSpan(expSeconds * 1000 - nowMs)})`;
}

function humanSpan(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s >= 2 * 86_400) return `${Math.round(s / 86_400)} days`;
  if (s >= 2 * 3600) return `${Math.round(s / 3600)} hours`;
  if (s >= 2 * 60) return `${Math.round(s / 60)} minutes`;
  return `${s} seconds`;
}
