/**
 * The audit event (docs/protocol.md §11). The builder copies only the fields §11 names, each
 * checked for its type, so a value, signature, MAC, ticket or credential text handed to it
 * by mistake (as an extra property) never reaches the trail; absent fields are left out
 * (no nulls).
 */
import { ERROR_CODES, isErrorStatus, type ErrorCode, type Op, type RevocationSelector } from '@secret-svc/protocol';
import { isoTime } from '../iso-time.js';

/** What revoke / unrevoke name (§10): exactly one of the three forms. */
export type AuditSelector = RevocationSelector;

export interface AuditEvent {
  v: 1;
  /** ISO time the reply was decided. */
  time: string;
  /** The worker's micro service instance id. */
  worker: string;
  op: Op;
  /** 200 on success. */
  status: number;
  /** On errors. */
  code?: ErrorCode;
  /** Who asked: once the credential verified. */
  slug?: string;
  admin?: boolean;
  keyId?: string;
  jti?: string;
  session?: true;
  /** What was asked for: once the request object was read. */
  key?: string;
  keys?: string[];
  prefix?: string;
  /** Success of read (with key), create, update. */
  version?: number;
  /** Success of list: the page size; a folded event: how many requests it stands for. */
  count?: number;
  /** revoke, unrevoke. */
  selector?: AuditSelector;
  /** A further field (docs/protocol.md §11): update as a rollback, the version whose value it restores. */
  rollbackOf?: number;
}

/**
 * What the pipeline knows about one answered request (its Answer, src/answer.ts, is one).
 * The trail adds `v` and `worker`, and `time` (now) when it is not given; `code` follows
 * from an error `status` when not given. Anything else on the object is left out.
 */
export type AuditFacts = Omit<AuditEvent, 'v' | 'worker' | 'time' | 'code'> & { time?: Date; code?: ErrorCode };

const OP_TOKEN = /^[a-z][a-z0-9-]*$/;

const str = (v: unknown): v is string => typeof v === 'string';
const int = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

let lastMs = NaN;
let lastIso = '';

/** The ISO time, remembered for its millisecond: the events of one millisecond share their time. */
function isoOf(time: Date): string {
  const ms = time.getTime();
  if (ms !== lastMs) {
    // An invalid Date is a bug, not input: refused as toISOString refuses it.
    lastIso = Number.isFinite(ms) ? isoTime(ms) : time.toISOString();
    lastMs = ms;
  }
  return lastIso;
}

/** The event for `facts`; throws TypeError on an op or status that cannot be one (a bug, not input). */
export function buildEvent(facts: AuditFacts, worker: string, now: Date = new Date()): AuditEvent {
  const { op, status } = facts;
  if (!str(op) || !OP_TOKEN.test(op)) throw new TypeError(`audit: not an op: ${String(op).slice(0, 40)}`);
  if (!int(status) || status < 100 || status > 599) throw new TypeError('audit: status must be an HTTP-like integer');
  const time = facts.time instanceof Date ? facts.time : now;
  const e: AuditEvent = { v: 1, time: isoOf(time), worker, op, status };
  const code = str(facts.code) ? facts.code : status !== 200 && isErrorStatus(status) ? ERROR_CODES[status] : undefined;
  if (code !== undefined) e.code = code;
  if (str(facts.slug)) e.slug = facts.slug;
  if (typeof facts.admin === 'boolean') e.admin = facts.admin;
  if (str(facts.keyId)) e.keyId = facts.keyId;
  if (str(facts.jti)) e.jti = facts.jti;
  if (facts.session === true) e.session = true;
  if (str(facts.key)) e.key = facts.key;
  if (Array.isArray(facts.keys) && facts.keys.every(str)) e.keys = [...facts.keys];
  if (str(facts.prefix)) e.prefix = facts.prefix;
  if (int(facts.version)) e.version = facts.version;
  if (int(facts.count)) e.count = facts.count;
  if (int(facts.rollbackOf)) e.rollbackOf = facts.rollbackOf;
  const selector = selectorIn(facts.selector);
  if (selector) e.selector = selector;
  return e;
}

/** The selector in `s`, copying only its own fields. */
function selectorIn(s: unknown): AuditSelector | undefined {
  if (typeof s !== 'object' || s === null) return undefined;
  const o = s as Record<string, unknown>;
  if (str(o.keyId)) return { keyId: o.keyId };
  if (str(o.jti)) return { jti: o.jti };
  if (str(o.slug) && int(o.issuedBefore)) return { slug: o.slug, issuedBefore: o.issuedBefore };
  return undefined;
}

/** The subject an event is published on: `<prefix>.audit.<op>`. */
export function auditSubject(subjectPrefix: string, op: string): string {
  return `${subjectPrefix}.audit.${op}`;
}

/**
 * Folded into counted events (fold.ts): requests refused before their credential verified
 * (no slug, §11), and those refused 401 after it did (§15).
 */
export function isFolded(facts: AuditFacts): boolean {
  return !str(facts.slug) || facts.status === 401;
}
