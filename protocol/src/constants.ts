/** Wire constants of protocol v1 (docs/protocol.md). Shared by worker, client and CLI. */

export const OPS = ['whoami', 'read', 'list', 'create', 'update', 'delete', 'versions', 'revoke', 'unrevoke', 'revocations', 'session', 'watch'] as const;
export type Op = (typeof OPS)[number];
/** Resent as identical bytes and answered with the first reply (docs/protocol.md §3, §10). */
export const WRITE_OPS: ReadonlySet<Op> = new Set<Op>(['create', 'update', 'delete', 'revoke', 'unrevoke']);

export function isOp(value: string): value is Op {
  return (OPS as readonly string[]).includes(value);
}

/** Domain separation for request signatures: "secret-svc/v1\n" || cred || "\n" || payload. */
export const SIGNATURE_CONTEXT = 'secret-svc/v1\n';

export const SERVICE_NAME = 'secret-svc';
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
export const DEFAULT_SUBJECT_PREFIX = 'secret';
export const DEFAULT_QUEUE = 'secret-svc';
export const DEFAULT_AUDIENCE = 'secret-svc';
export const DEFAULT_MAX_CLOCK_SKEW_SECONDS = 60;
export const DEFAULT_MAX_VALUE_BYTES = 65_536;
export const DEFAULT_MAX_ENVELOPE_BYTES = 262_144;

export const SLUG_RE = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
export const KEY_SEGMENT_RE = /^[A-Za-z0-9_.-]+$/;
export const KEY_MAX_LENGTH = 256;
export const NONCE_RE = /^[A-Za-z0-9_-]{16,64}$/;
export const MAX_LIST_ENTRIES = 100;
export const MAX_READ_KEYS = 100;
export const MAX_LIST_LIMIT = 1000;
export const DEFAULT_LIST_LIMIT = 100;
/** watch (docs/protocol.md §14): keys per request, the wait's bounds and default, changes per reply. */
export const MAX_WATCH_KEYS = 100;
export const MAX_WATCH_WAIT_MS = 60_000;
export const DEFAULT_WATCH_WAIT_MS = 20_000;
export const MAX_WATCH_CHANGES = 1000;

export const ERROR_CODE_HEADER = 'Nats-Service-Error-Code';
export const ERROR_MESSAGE_HEADER = 'Nats-Service-Error';

export function isValidKey(key: string): boolean {
  if (key.length < 1 || key.length > KEY_MAX_LENGTH) return false;
  return key.split('/').every((s) => KEY_SEGMENT_RE.test(s) && s !== '.' && s !== '..');
}

export function subjectFor(prefix: string, op: Op): string {
  return `${prefix}.${op}`;
}
