/** Worker configuration from the environment (docs/protocol.md §7), validated once at startup. */
import type { KeyObject } from 'node:crypto';
import type { ConnectionOptions } from 'nats';
import { z } from 'zod';
import {
  DEFAULT_AUDIENCE, DEFAULT_MAX_CLOCK_SKEW_SECONDS, DEFAULT_MAX_ENVELOPE_BYTES, DEFAULT_MAX_VALUE_BYTES,
  DEFAULT_NATS_URL, DEFAULT_QUEUE, DEFAULT_SUBJECT_PREFIX, isPublicKeyText, MAX_LIST_LIMIT, publicKeyProblem,
} from '@secret-svc/protocol';
import { auditEnvSchema, auditSettings, type AuditSettings } from './audit/settings.js';
import { KEYRING_ENV, KeyringError, loadKeyring } from './keyring-source.js';
import { LOG_LEVELS } from './log-levels.js';
import { NATS_AUTH_ENV, NatsAuthError, natsAuthOptions } from './nats-auth.js';
import { DEFAULT_SESSION_TTL_SECONDS } from './session/handshake.js';
import { loadServiceKey, ServiceKeyError } from './session/service-key.js';
import { DEFAULT_REPLY_PREFIXES, replyPrefixProblem } from './reply-subjects.js';
import { parseRedisTarget, REDIS_MODES, RedisTargetError, type RedisTarget } from './store/redis-target.js';

/** Why the worker refuses to start; `exitCode` is the process exit status it calls for. */
export class ConfigError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
  }
}

const DEFAULT_MAX_IN_FLIGHT = 512;
const DEFAULT_MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_REPLY_BYTES = 64 * 1024 * 1024;
// Per caller key and worker while others are active (src/limits.ts): one full reply of the
// default 1 MiB bus limit, and the records of one list of the largest limit.
const DEFAULT_MAX_REPLY_BYTES_PER_CALLER = 1024 * 1024;
const DEFAULT_MAX_WORK_PER_CALLER = MAX_LIST_LIMIT;
const DEFAULT_MAX_HANDSHAKES_PER_CALLER = 10;

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const token = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** Every variable the worker reads; docker-compose.yml is checked against these names. */
export const envSchema = z.object({
  NATS_URL: z.string().min(1).default(DEFAULT_NATS_URL),
  ...Object.fromEntries(NATS_AUTH_ENV.map((name) => [name, z.string().optional()])) as Record<(typeof NATS_AUTH_ENV)[number], z.ZodOptional<z.ZodString>>,
  // REDIS_URL's default depends on REDIS_MODE (none for cluster / sentinel): see store/redis-target.ts.
  REDIS_URL: z.string().min(1).optional(),
  REDIS_MODE: z.enum(REDIS_MODES, { error: `must be one of ${REDIS_MODES.join(', ')}` }).default('standalone'),
  REDIS_SENTINEL_MASTER: z.string().optional(),
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  SECRET_SVC_ISSUERS: z.string().optional(),
  ...Object.fromEntries(KEYRING_ENV.map((name) => [name, z.string().optional()])) as Record<(typeof KEYRING_ENV)[number], z.ZodOptional<z.ZodString>>,
  SECRET_SVC_SUBJECT_PREFIX: z.string().regex(token, 'must be NATS subject tokens').default(DEFAULT_SUBJECT_PREFIX),
  SECRET_SVC_QUEUE: z.string().regex(token, 'must be a NATS queue name').default(DEFAULT_QUEUE),
  SECRET_SVC_AUDIENCE: z.string().min(1).default(DEFAULT_AUDIENCE),
  SECRET_SVC_REDIS_PREFIX: z.string().default('secret-svc:'),
  SECRET_SVC_MAX_CLOCK_SKEW: positiveInt(DEFAULT_MAX_CLOCK_SKEW_SECONDS),
  SECRET_SVC_MAX_VALUE_BYTES: positiveInt(DEFAULT_MAX_VALUE_BYTES),
  SECRET_SVC_MAX_ENVELOPE_BYTES: positiveInt(DEFAULT_MAX_ENVELOPE_BYTES),
  // Work one worker takes on at once (src/limits.ts); beyond it requests get 503.
  SECRET_SVC_MAX_IN_FLIGHT: positiveInt(DEFAULT_MAX_IN_FLIGHT),
  SECRET_SVC_MAX_IN_FLIGHT_BYTES: positiveInt(DEFAULT_MAX_IN_FLIGHT_BYTES),
  // Default: a quarter of SECRET_SVC_MAX_IN_FLIGHT.
  SECRET_SVC_MAX_IN_FLIGHT_PER_CALLER: z.coerce.number().int().positive().optional(),
  SECRET_SVC_MAX_REPLY_BYTES: z.coerce.number().int().min(1_048_576, 'must be at least 1048576').default(DEFAULT_MAX_REPLY_BYTES),
  // The cost of one caller key's requests on one worker while others are active (src/limits.ts); beyond it, 503.
  SECRET_SVC_MAX_REPLY_BYTES_PER_CALLER: z.coerce.number().int().min(65_536, 'must be at least 65536').default(DEFAULT_MAX_REPLY_BYTES_PER_CALLER),
  // Every request must fit alone: a list of the largest limit costs that many units.
  SECRET_SVC_MAX_WORK_PER_CALLER: z.coerce.number().int().min(MAX_LIST_LIMIT, `must be at least ${MAX_LIST_LIMIT} (a list's largest limit)`).default(DEFAULT_MAX_WORK_PER_CALLER),
  SECRET_SVC_MAX_HANDSHAKES_PER_CALLER: positiveInt(DEFAULT_MAX_HANDSHAKES_PER_CALLER),
  SECRET_SVC_MAX_VERSIONS: positiveInt(10),
  // docs/protocol.md §14: change entries kept, watches held per worker and per caller key.
  SECRET_SVC_WATCH_HISTORY: positiveInt(100_000),
  SECRET_SVC_MAX_WATCHES: positiveInt(10_000),
  SECRET_SVC_MAX_WATCHES_PER_CALLER: positiveInt(16),
  SECRET_SVC_SESSION_TTL: positiveInt(DEFAULT_SESSION_TTL_SECONDS),
  SECRET_SVC_SERVICE_KEY: z.string().optional(),
  // Comma-separated; checked against the subject prefix in parseReplyPrefixes (docs/protocol.md §15).
  SECRET_SVC_REPLY_PREFIXES: z.string().default(DEFAULT_REPLY_PREFIXES.join(',')),
  ...auditEnvSchema,
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
});

export const ENV_NAMES = Object.keys(envSchema.shape);

export interface Config {
  natsServers: string[];
  /** Login and TLS options for NATS (NATS_CREDS, NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_TLS_*). */
  natsAuth: Partial<ConnectionOptions>;
  /** Where Redis is, by REDIS_MODE (REDIS_URL: one URL, or the seed nodes / sentinels). */
  redis: RedisTarget;
  issuers: string[];
  /** The keyring (§13), in order: the first key seals, every key opens. Never empty. */
  encryptionKeys: Uint8Array[];
  /** The variable the keyring came from, for messages (set by loadConfig). */
  keyringVariable?: string;
  subjectPrefix: string;
  queue: string;
  audience: string;
  redisPrefix: string;
  maxClockSkewMs: number;
  maxValueBytes: number;
  maxEnvelopeBytes: number;
  /** Requests one worker works on at once. */
  maxInFlight: number;
  /** Request bytes one worker holds at once. */
  maxInFlightBytes: number;
  /** Requests one caller key may have in flight on one worker. */
  maxInFlightPerCaller: number;
  /** Reply bytes one worker has reserved at once (Redis builds no more for it). */
  maxReplyBytes: number;
  /** Work units (records a request may touch; a handshake counts more) one caller key may have in flight on one worker while others are active. */
  maxWorkPerCaller: number;
  /** Reply bytes one caller key may have reserved at once on one worker while others are active. */
  maxReplyBytesPerCaller: number;
  /** Session handshakes per second one caller key may open on one worker. */
  maxHandshakesPerCaller: number;
  /** How many versions of a secret are kept, the current one included (docs/protocol.md §9). */
  maxVersions: number;
  /** SECRET_SVC_WATCH_HISTORY: how many change entries the store keeps (§14). */
  watchHistory: number;
  /** SECRET_SVC_MAX_WATCHES: watches one worker holds at once (§14). */
  maxWatches: number;
  /** SECRET_SVC_MAX_WATCHES_PER_CALLER: watches one caller key may have held on one worker. */
  maxWatchesPerCaller: number;
  /** SECRET_SVC_SESSION_TTL: the longest a session lasts (§12). */
  sessionTtlMs: number;
  /** SECRET_SVC_SERVICE_KEY: signs handshake replies when set (§12). */
  serviceKey: KeyObject | undefined;
  /** The audit trail (docs/protocol.md §11; src/audit/settings.ts). */
  audit: AuditSettings;
  /** SECRET_SVC_REPLY_PREFIXES: only replies to subjects beginning with one of these are sent (§15). */
  replyPrefixes: string[];
  logLevel: string;
}

/** The environment checked against a schema; an empty variable counts as unset. The first problem names its variable. */
function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const e = parseEnv(envSchema, env);
  return {
    natsServers: e.NATS_URL.split(',').map((s) => s.trim()).filter(Boolean),
    natsAuth: parseNatsAuth(e),
    redis: parseRedis(e),
    issuers: parseIssuers(e.SECRET_SVC_ISSUERS),
    encryptionKeys: parseKeyring(e),
    keyringVariable: keyringVariableOf(e),
    subjectPrefix: e.SECRET_SVC_SUBJECT_PREFIX,
    queue: e.SECRET_SVC_QUEUE,
    audience: e.SECRET_SVC_AUDIENCE,
    redisPrefix: e.SECRET_SVC_REDIS_PREFIX,
    maxClockSkewMs: e.SECRET_SVC_MAX_CLOCK_SKEW * 1000,
    maxValueBytes: e.SECRET_SVC_MAX_VALUE_BYTES,
    maxEnvelopeBytes: e.SECRET_SVC_MAX_ENVELOPE_BYTES,
    maxInFlight: e.SECRET_SVC_MAX_IN_FLIGHT,
    maxInFlightBytes: e.SECRET_SVC_MAX_IN_FLIGHT_BYTES,
    maxInFlightPerCaller: perCallerShare(e.SECRET_SVC_MAX_IN_FLIGHT, e.SECRET_SVC_MAX_IN_FLIGHT_PER_CALLER),
    maxReplyBytes: e.SECRET_SVC_MAX_REPLY_BYTES,
    maxWorkPerCaller: e.SECRET_SVC_MAX_WORK_PER_CALLER,
    maxReplyBytesPerCaller: e.SECRET_SVC_MAX_REPLY_BYTES_PER_CALLER,
    maxHandshakesPerCaller: e.SECRET_SVC_MAX_HANDSHAKES_PER_CALLER,
    maxVersions: e.SECRET_SVC_MAX_VERSIONS,
    watchHistory: e.SECRET_SVC_WATCH_HISTORY,
    maxWatches: e.SECRET_SVC_MAX_WATCHES,
    maxWatchesPerCaller: e.SECRET_SVC_MAX_WATCHES_PER_CALLER,
    sessionTtlMs: e.SECRET_SVC_SESSION_TTL * 1000,
    serviceKey: parseServiceKey(e.SECRET_SVC_SERVICE_KEY),
    audit: auditSettings(e),
    replyPrefixes: parseReplyPrefixes(e.SECRET_SVC_REPLY_PREFIXES, e.SECRET_SVC_SUBJECT_PREFIX),
    logLevel: e.LOG_LEVEL,
  };
}

/** What the store needs, and all `keys status` / `keys rewrap` read: the keyring and the Redis settings. */
export type StoreConfig = Pick<Config, 'redis' | 'encryptionKeys' | 'keyringVariable' | 'redisPrefix' | 'maxVersions' | 'watchHistory'>;

const STORE_ENV = [
  'REDIS_URL', 'REDIS_MODE', 'REDIS_SENTINEL_MASTER', 'REDIS_SENTINEL_PASSWORD', 'SECRET_SVC_REDIS_PREFIX', 'SECRET_SVC_MAX_VERSIONS', 'SECRET_SVC_WATCH_HISTORY',
  ...KEYRING_ENV,
] as const;

/** The store's part of the worker configuration, from the same variables (nothing else is read). */
export function loadStoreConfig(env: NodeJS.ProcessEnv = process.env): StoreConfig {
  const schema = envSchema.pick(Object.fromEntries(STORE_ENV.map((name) => [name, true])) as { [K in (typeof STORE_ENV)[number]]: true });
  const e = parseEnv(schema, env);
  return {
    redis: parseRedis(e), encryptionKeys: parseKeyring(e), keyringVariable: keyringVariableOf(e),
    redisPrefix: e.SECRET_SVC_REDIS_PREFIX, maxVersions: e.SECRET_SVC_MAX_VERSIONS, watchHistory: e.SECRET_SVC_WATCH_HISTORY,
  };
}

function perCallerShare(maxInFlight: number, given: number | undefined): number {
  if (given === undefined) return Math.max(1, Math.floor(maxInFlight / 4));
  if (given > maxInFlight) throw new ConfigError(`SECRET_SVC_MAX_IN_FLIGHT_PER_CALLER (${given}) is above SECRET_SVC_MAX_IN_FLIGHT (${maxInFlight})`);
  return given;
}

function parseNatsAuth(e: z.infer<typeof envSchema>): Partial<ConnectionOptions> {
  try {
    return natsAuthOptions(e);
  } catch (err) {
    if (err instanceof NatsAuthError) throw new ConfigError(err.message);
    throw err;
  }
}

function parseRedis(e: Parameters<typeof parseRedisTarget>[0]): RedisTarget {
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
  if (bad !== undefined) throw new ConfigError(`SECRET_SVC_ISSUERS: "${bad.slice(0, 60)}" is not a usable Ed25519 public key: ${publicKeyProblem(bad)}`);
  return issuers;
}

function parseReplyPrefixes(text: string, subjectPrefix: string): string[] {
  const prefixes = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (prefixes.length === 0) throw new ConfigError('SECRET_SVC_REPLY_PREFIXES: give at least one inbox prefix (default _INBOX)');
  for (const p of prefixes) {
    const problem = replyPrefixProblem(p, subjectPrefix);
    if (problem) throw new ConfigError(`SECRET_SVC_REPLY_PREFIXES: ${problem}`);
  }
  return prefixes;
}

function parseKeyring(e: Parameters<typeof loadKeyring>[0]): Uint8Array[] {
  try {
    return loadKeyring(e);
  } catch (err) {
    if (err instanceof KeyringError) throw new ConfigError(err.message, err.exitStatus);
    throw err;
  }
}

function keyringVariableOf(e: Parameters<typeof loadKeyring>[0]): string | undefined {
  return KEYRING_ENV.find((name) => e[name] !== undefined);
}

function parseServiceKey(file: string | undefined): KeyObject | undefined {
  try {
    return loadServiceKey(file);
  } catch (err) {
    if (err instanceof ServiceKeyError) throw new ConfigError(err.message);
    throw err;
  }
}
