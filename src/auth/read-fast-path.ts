/**
 * A precompiled check of the hottest request shape, `read`, ahead of its zod schema (the
 * reference: requestSchemas.read). It only ever accepts: a value it is not sure of — any
 * field it does not know, any type or bound it does not like — goes to zod, which decides
 * and words the 400. test/unit/read-fast-path.test.ts holds both to agreement on a corpus.
 */
import { isValidKey, MAX_READ_KEYS, NONCE_RE, type RequestOf } from '@secret-svc/protocol';

const READ_FIELDS = new Set(['op', 'aud', 'ts', 'nonce', 'key', 'keys', 'version']);

/** The parsed read request when `value` certainly passes the schema, else undefined (ask zod). */
export function fastRead(value: unknown): RequestOf<'read'> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return undefined;
  const r = value as Record<string, unknown>;
  for (const field in r) {
    if (!Object.hasOwn(r, field) || !READ_FIELDS.has(field) || r[field] === undefined) return undefined;
  }
  const { op, aud, ts, nonce, key, keys, version } = r;
  if (op !== 'read' || typeof aud !== 'string' || aud.length > 256 || !Number.isSafeInteger(ts)) return undefined;
  if (typeof nonce !== 'string' || !NONCE_RE.test(nonce)) return undefined;
  const head = { op: 'read' as const, aud, ts: ts as number, nonce };
  if (key !== undefined) {
    if (keys !== undefined || typeof key !== 'string' || !isValidKey(key)) return undefined;
    if (version === undefined) return { ...head, key };
    return Number.isSafeInteger(version) && (version as number) >= 1 ? { ...head, key, version: version as number } : undefined;
  }
  if (version !== undefined || !Array.isArray(keys) || keys.length < 1 || keys.length > MAX_READ_KEYS) return undefined;
  for (const k of keys) if (typeof k !== 'string' || !isValidKey(k)) return undefined;
  if (new Set(keys).size !== keys.length) return undefined;
  return { ...head, keys: [...(keys as string[])] };
}
