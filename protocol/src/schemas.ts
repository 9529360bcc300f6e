/** Strict request-object schemas (docs/protocol.md §3–4): unknown fields, wrong types and gaps are 400. */
import { z } from 'zod';
import { quoteInput } from './errors.js';
import {
  isValidKey, MAX_LIST_ENTRIES, MAX_LIST_LIMIT, MAX_READ_KEYS, MAX_WATCH_KEYS, MAX_WATCH_WAIT_MS, NONCE_RE, SLUG_RE, type Op,
} from './constants.js';
import { isOneSelector, ONE_SELECTOR, selectorFields } from './revocation.js';
import { readX25519PublicKey } from './session/x25519.js';

export const keySchema = z.string().refine(isValidKey, 'invalid key (1-256 chars, segments of [A-Za-z0-9_.-] joined by "/")');
export const slugSchema = z.string().regex(SLUG_RE, 'invalid slug');
const slugList = z.array(slugSchema).max(MAX_LIST_ENTRIES);
const version = z.int().min(1);

const head = {
  aud: z.string().max(256),
  ts: z.int(),
  nonce: z.string().regex(NONCE_RE, 'nonce must be 16-64 chars of [A-Za-z0-9_-]'),
};

/** The signed head every request object carries (docs/protocol.md §3). */
export { head as requestHeadFields };

const lists = { readers: slugList.optional(), writers: slugList.optional(), deleters: slugList.optional() };

export const requestSchemas = {
  whoami: z.strictObject({ op: z.literal('whoami'), ...head }),
  read: z
    .strictObject({
      op: z.literal('read'),
      ...head,
      key: keySchema.optional(),
      keys: z.array(keySchema).min(1).max(MAX_READ_KEYS).optional(),
      version: version.optional(),
    })
    .refine((r) => (r.key === undefined) !== (r.keys === undefined), 'give exactly one of "key" and "keys"')
    .refine((r) => r.version === undefined || r.keys === undefined, '"version" goes only with "key"')
    .refine((r) => r.keys === undefined || new Set(r.keys).size === r.keys.length, '"keys" must be distinct'),
  list: z.strictObject({
    op: z.literal('list'),
    ...head,
    prefix: z.string().max(256).optional(),
    limit: z.int().min(1).max(MAX_LIST_LIMIT).optional(),
    cursor: z.string().max(1024).optional(),
  }),
  create: z.strictObject({ op: z.literal('create'), ...head, key: keySchema, value: z.string(), ...lists }),
  update: z
    .strictObject({
      op: z.literal('update'), ...head, key: keySchema, value: z.string().optional(), ...lists, ifVersion: version.optional(),
      // The version whose value this update restores (a rollback), recorded in the audit event (docs/protocol.md §11).
      rollbackOf: version.optional(),
    })
    .refine(
      (r) => r.value !== undefined || r.readers !== undefined || r.writers !== undefined || r.deleters !== undefined,
      'update needs at least one of "value", "readers", "writers", "deleters"',
    )
    .refine((r) => r.rollbackOf === undefined || r.value !== undefined, '"rollbackOf" goes only with "value"'),
  delete: z.strictObject({ op: z.literal('delete'), ...head, key: keySchema, ifVersion: version.optional() }),
  versions: z.strictObject({ op: z.literal('versions'), ...head, key: keySchema }),
  revoke: z.strictObject({ op: z.literal('revoke'), ...head, ...selectorFields }).refine(isOneSelector, ONE_SELECTOR),
  unrevoke: z.strictObject({ op: z.literal('unrevoke'), ...head, ...selectorFields }).refine(isOneSelector, ONE_SELECTOR),
  revocations: z.strictObject({ op: z.literal('revocations'), ...head }),
  // docs/protocol.md §12: a signed request only (inside a session envelope it is 400, checked before this).
  session: z.strictObject({
    op: z.literal('session'),
    ...head,
    epk: z.string().refine(
      (t) => typeof readX25519PublicKey(t) !== 'string',
      'epk must be canonical base64url of an X25519 public key below 2^255 - 19, not of small order',
    ),
  }),
  // docs/protocol.md §14: prefix or keys (or neither: everything the caller may read).
  watch: z
    .strictObject({
      op: z.literal('watch'),
      ...head,
      prefix: z.string().max(256).optional(),
      keys: z.array(keySchema).min(1).max(MAX_WATCH_KEYS).optional(),
      since: z.int().min(0).optional(),
      wait: z.int().min(0).max(MAX_WATCH_WAIT_MS).optional(),
    })
    .refine((r) => r.prefix === undefined || r.keys === undefined, 'give "prefix" or "keys", not both')
    .refine((r) => r.keys === undefined || new Set(r.keys).size === r.keys.length, '"keys" must be distinct'),
} satisfies Record<Op, z.ZodType>;

export type RequestOf<O extends Op> = z.infer<(typeof requestSchemas)[O]>;
export type AnyRequest = { [O in Op]: RequestOf<O> }[Op];
/** The operation's own fields, without the signed head (op, aud, ts, nonce). */
export type ParamsOf<O extends Op> = Omit<z.input<(typeof requestSchemas)[O]>, 'op' | 'aud' | 'ts' | 'nonce'>;

/** A short, value-free description of the first schema problem. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid request';
  if (issue.code === 'unrecognized_keys') return `unknown field ${quoteInput(String(issue.keys[0]))}`;
  const path = issue.path.map(String).join('.');
  // zod's messages can quote the received input for some codes; keep ours generic then.
  const message = issue.code === 'invalid_value' ? 'has an invalid value' : issue.message;
  return path ? `"${path}": ${message}` : message;
}
