/**
 * The audit settings (docs/protocol.md §11): SECRET_SVC_AUDIT, _AUDIT_STREAM, _AUDIT_MAX_AGE,
 * _AUDIT_MAX_BYTES. The schema entries are spread into config.ts's envSchema, so a value out
 * of range is a ConfigError that names its variable.
 */
import { z } from 'zod';

export const AUDIT_MODES = ['jetstream', 'off'] as const;
export type AuditMode = (typeof AUDIT_MODES)[number];

export const DEFAULT_AUDIT_STREAM = 'SECRET_SVC_AUDIT';
export const DEFAULT_AUDIT_MAX_AGE_SECONDS = 7_776_000; // 90 days
export const DEFAULT_AUDIT_MAX_BYTES = 1_073_741_824; // 1 GiB

/** 100 years: max_age travels as nanoseconds, which must stay an exact JSON integer. */
const MAX_AGE_LIMIT = 3_155_760_000;
/** A trail smaller than this would discard events within moments. */
const MIN_BYTES = 1_048_576;

const inRange = (min: number, max: number, fallback: number, unit: string) =>
  z.coerce.number({ error: `must be a whole number of ${unit}` })
    .int(`must be a whole number of ${unit}`)
    .min(min, `must be at least ${min} ${unit}`)
    .max(max, `must be at most ${max} ${unit}`)
    .default(fallback);

export const auditEnvSchema = {
  SECRET_SVC_AUDIT: z.enum(AUDIT_MODES, { error: `must be one of ${AUDIT_MODES.join(', ')}` }).default('jetstream'),
  // A JetStream stream name: no dots, wildcards, slashes or white space.
  SECRET_SVC_AUDIT_STREAM: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, "_" or "-"').default(DEFAULT_AUDIT_STREAM),
  SECRET_SVC_AUDIT_MAX_AGE: inRange(1, MAX_AGE_LIMIT, DEFAULT_AUDIT_MAX_AGE_SECONDS, 'seconds'),
  SECRET_SVC_AUDIT_MAX_BYTES: inRange(MIN_BYTES, Number.MAX_SAFE_INTEGER, DEFAULT_AUDIT_MAX_BYTES, 'bytes'),
};

export interface AuditSettings {
  mode: AuditMode;
  stream: string;
  maxAgeSeconds: number;
  maxBytes: number;
}

type AuditEnv = { [K in keyof typeof auditEnvSchema]: z.infer<(typeof auditEnvSchema)[K]> };

export function auditSettings(e: AuditEnv): AuditSettings {
  return {
    mode: e.SECRET_SVC_AUDIT,
    stream: e.SECRET_SVC_AUDIT_STREAM,
    maxAgeSeconds: e.SECRET_SVC_AUDIT_MAX_AGE,
    maxBytes: e.SECRET_SVC_AUDIT_MAX_BYTES,
  };
}
