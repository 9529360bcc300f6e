/** Worker configuration from the environment (PROTOCOL.md §7), validated once at startup. */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'nats';
import { z } from 'zod';
import {
  DEFAULT_AUDIENCE, DEFAULT_MAX_CLOCK_SKEW_SECONDS, DEFAULT_MAX_ENVELOPE_BYTES, DEFAULT_MAX_VALUE_BYTES,
  DEFAULT_QUEUE, DEFAULT_SUBJECT_PREFIX, isPublicKeyText,
} from '@secret-svc/protocol';
import { auditEnvSchema, auditSettings, type AuditSettings } from './audit/settings.js';
import { NATS_AUTH_ENV, natsAuthOptions } from './nats-auth.js';
import { parseRedisTarget, REDIS_MODES, RedisTargetError, type RedisTarget } from './store/redis-target.js';

export class ConfigError extends Error {}

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const token = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** Every variable the worker reads; docker-compose.yml is checked against these names. */
export const envSchema = z.object({
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  ...Object.fromEntries(NATS_AUTH_ENV.map((name) => [name, z.string().optional()])) as Record<(typeof NATS_AUTH_ENV)[number], z.ZodOptional<z.ZodString>>,
  // REDIS_URL's default depends on REDIS_MODE (none for cluster / sentinel): see store/redis-target.ts.
  REDIS_URL: z.string().min(1).optional(),
  REDIS_MODE: z.enum(REDIS_MODES, { error: `must be one of ${REDIS_MODES.join(', ')}` }).default('standalone'),
  REDIS_SENTINEL_MASTER: z.string().optional(),
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  SECRET_SVC_ISSUERS: z.string().optional(),
  SECRET_SVC_ENCRYPTION_KEY: z.string().optional(),
  SECRET_SVC_ENCRYPTION_KEY_FILE: z.string().optional(),
  SECRET_SVC_SUBJECT_PREFIX: z.string().regex(token, 'must be NATS subject tokens').default(DEFAULT_SUBJECT_PREFIX),
  SECRET_SVC_QUEUE: z.string().regex(token, 'must be a NATS queue name').default(DEFAULT_QUEUE),
  SECRET_SVC_AUDIENCE: z.string().min(1).default(DEFAULT_AUDIENCE),
  SECRET_SVC_REDIS_PREFIX: z.string().default('secret-svc:'),
  SECRET_SVC_MAX_CLOCK_SKEW: positiveInt(DEFAULT_MAX_CLOCK_SKEW_SECONDS),
  SECRET_SVC_MAX_VALUE_BYTES: positiveInt(DEFAULT_MAX_VALUE_BYTES),
  SECRET_SVC_MAX_ENVELOPE_BYTES: positiveInt(DEFAULT_MAX_ENVELOPE_BYTES),
  ...auditEnvSchema,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export const ENV_NAMES = Object.keys(envSchema.shape);

export interface Config {
  natsServers: string[];
  /** Login and TLS options for NATS (NATS_CREDS, NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_TLS_*). */
  natsAuth: Partial<ConnectionOptions>;
  /** REDIS_URL as given (one URL, or the comma-separated seed nodes / sentinels). */
  /** Where Redis is, by REDIS_MODE. */
  redis: RedisTarget;
  issuers: string[];
  encryptionKey: Uint8Array;
  subjectPrefix: string;
  queue: string;
  audience: string;
  redisPrefix: string;
  maxClockSkewMs: number;
  maxValueBytes: number;
  maxEnvelopeBytes: number;
  /** The audit trail (PROTOCOL.md §11; src/audit/settings.ts). */
  audit: AuditSettings;
  logLevel: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  return {
    natsServers: e.NATS_URL.split(',').map((s) => s.trim()).filter(Boolean),
    natsAuth: parseNatsAuth(e),
    redis: parseRedis(e),
    issuers: parseIssuers(e.SECRET_SVC_ISSUERS),
    encryptionKey: parseEncryptionKey(e.SECRET_SVC_ENCRYPTION_KEY, e.SECRET_SVC_ENCRYPTION_KEY_FILE),
    subjectPrefix: e.SECRET_SVC_SUBJECT_PREFIX,
    queue: e.SECRET_SVC_QUEUE,
    audience: e.SECRET_SVC_AUDIENCE,
    redisPrefix: e.SECRET_SVC_REDIS_PREFIX,
    maxClockSkewMs: e.SECRET_SVC_MAX_CLOCK_SKEW * 1000,
    maxValueBytes: e.SECRET_SVC_MAX_VALUE_BYTES,
    maxEnvelopeBytes: e.SECRET_SVC_MAX_ENVELOPE_BYTES,
    audit: auditSettings(e),
    logLevel: e.LOG_LEVEL,
  };
}

function parseNatsAuth(e: z.infer<typeof envSchema>): Partial<ConnectionOptions> {
  try {
    return natsAuthOptions(e);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

function parseRedis(e: z.infer<typeof envSchema>): RedisTarget {
  try {
    return parseRedisTarget(e);
  } catch (err) {
    if (err instanceof RedisTargetError) throw new ConfigError(err.message);
    throw err;
  }
}

function parseIssuers(text: string | undefined): string[] {
  const issuers = (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (issuers.length === 0) {
    throw new ConfigError('SECRET_SVC_ISSUERS is required: the comma-separated public keys of trusted credential issuers');
  }
  const bad: string | undefined = issuers.find((k) => !isPublicKeyText(k as unknown));
  if (bad !== undefined) throw new ConfigError(`SECRET_SVC_ISSUERS: "${bad.slice(0, 60)}" is not an Ed25519 public key (base64url of 32 bytes)`);
  return issuers;
}

function parseEncryptionKey(value: string | undefined, file: string | undefined): Uint8Array {
  if (value !== undefined && file !== undefined) {
    throw new ConfigError('set only one of SECRET_SVC_ENCRYPTION_KEY and SECRET_SVC_ENCRYPTION_KEY_FILE');
  }
  let text = value;
  if (file !== undefined) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`SECRET_SVC_ENCRYPTION_KEY_FILE: cannot read ${file}: ${(err as Error).message}`);
    }
  }
  if (text === undefined) {
    throw new ConfigError('SECRET_SVC_ENCRYPTION_KEY or SECRET_SVC_ENCRYPTION_KEY_FILE is required (base64 of 32 random bytes, e.g. `openssl rand -base64 32`)');
  }
  const trimmed = text.trim();
  const name = file !== undefined ? 'SECRET_SVC_ENCRYPTION_KEY_FILE' : 'SECRET_SVC_ENCRYPTION_KEY';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) throw new ConfigError(`${name}: not base64`);
  const key = Buffer.from(trimmed, 'base64');
  if (key.length !== 32) throw new ConfigError(`${name}: must decode to exactly 32 bytes (got ${key.length})`);
  return new Uint8Array(key);
}

