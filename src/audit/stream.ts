/**
 * The audit stream (docs/protocol.md §11): file storage, subjects `<prefix>.audit.>`, limits
 * retention discarding the oldest, bounded by age and bytes, and no message deleted or
 * purged through the API (§15). Created at start and again whenever a publish finds none.
 * A stream whose settings were weakened (weakness()) is never changed by a worker.
 */
import {
  DiscardPolicy, nanos, RetentionPolicy, StorageType,
  type JetStreamManager, type NatsError, type StreamConfig,
} from 'nats';
import type { AuditSettings } from './settings.js';

/** Retries of one event within this window are stored once (Nats-Msg-Id). */
const DUPLICATE_WINDOW_SECONDS = 120;

/** Why a worker with audit on cannot start. */
export class AuditStartError extends Error {}

/**
 * `replicas`: 3 when NATS is a cluster of three or more servers (so the trail survives losing
 * one), else 1; see replicasFor.
 */
export function streamConfig(settings: AuditSettings, subjectPrefix: string, replicas = 1): Partial<StreamConfig> & { name: string } {
  return {
    name: settings.stream,
    num_replicas: replicas,
    description: 'secret-svc audit trail (one event per answered request)',
    subjects: [`${subjectPrefix}.audit.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: nanos(settings.maxAgeSeconds * 1000),
    max_bytes: settings.maxBytes,
    duplicate_window: nanos(Math.min(DUPLICATE_WINDOW_SECONDS, settings.maxAgeSeconds) * 1000),
    // A reply published on $JS.API.STREAM.PURGE / MSG.DELETE (say, by a library's discovery
    // handler) or an over-privileged user then cannot take events out of the trail.
    deny_delete: true,
    deny_purge: true,
  };
}

/** The limits a worker compares; those it does not set count as unlimited. */
const LIMITS = ['max_bytes', 'max_age', 'max_msgs', 'max_msgs_per_subject', 'max_msg_size'] as const;

/** A limit of 0 or less (or none) is no limit: -1 for most, 0 for max_age. */
const unlimited = (v: number | undefined): boolean => v === undefined || v <= 0;

/**
 * How `existing` is weaker than the trail the worker sets up (docs/protocol.md §15): storage
 * not file, retention not limits, discarding new messages, deletes or purges allowed, or a
 * limit tighter than the worker's. Empty when it is not weakened.
 */
export function weakness(existing: StreamConfig, wanted: ReturnType<typeof streamConfig>): string[] {
  const problems: string[] = [];
  if (existing.storage !== StorageType.File) problems.push(`storage is ${existing.storage}, not file`);
  if (existing.retention !== RetentionPolicy.Limits) problems.push(`retention is ${existing.retention}, not limits`);
  if (existing.discard === DiscardPolicy.New) problems.push('discard is new (new events would be refused once full)');
  if (existing.deny_delete !== true) problems.push('deny_delete is off (events can be deleted)');
  if (existing.deny_purge !== true) problems.push('deny_purge is off (the stream can be purged)');
  for (const limit of LIMITS) {
    const have = existing[limit] as number | undefined;
    const want = wanted[limit] as number | undefined;
    if (unlimited(have)) continue;
    if (unlimited(want) || have! < want!) problems.push(`${limit} is ${have}, tighter than ${unlimited(want) ? 'unlimited' : want}`);
  }
  return problems;
}

/** 3 on a NATS cluster of at least three servers (as the server announces them), else 1. */
export function replicasFor(info: { cluster?: string; connect_urls?: string[] } | undefined): number {
  return info?.cluster && (info.connect_urls?.length ?? 0) >= 3 ? 3 : 1;
}

export function isStreamNotFound(err: unknown): boolean {
  const e = err as NatsError | undefined;
  return e?.api_error?.err_code === 10059 || e?.message === 'stream not found';
}

/** No JetStream answered: the server (or the account) has it off, or it is not back yet. */
export function isNoJetStream(err: unknown): boolean {
  return (err as NatsError | undefined)?.code === '503';
}

export type EnsureResult = 'created' | 'created with one replica' | 'updated' | 'exists' | 'weakened, left as it is';

/** JetStream cannot place the replicas (yet): no suitable peers, or not enough resources. */
const PLACEMENT_ERRORS: ReadonlySet<number> = new Set([10005, 10023]);

/**
 * How long a replicated stream's creation keeps trying to be placed before settling for one
 * copy: a cluster that has just started (workers and NATS started together) takes a few
 * seconds until every JetStream server has joined, and a trail created then with one replica
 * would keep it (replicas are an operator's to change), making that one server a single
 * point of failure for every audited reply.
 */
const PLACEMENT_WAIT_MS = 20_000;

/**
 * Makes sure the stream exists. With `reconcile` (at start) an existing stream whose
 * limits differ from the settings is updated to them (replicas and other settings an
 * operator changed are kept), unless it is weakened (docs/protocol.md §15: then it is left
 * for an operator); one holding other subjects is refused (AuditStartError).
 */
export async function ensureStream(
  jsm: JetStreamManager, config: ReturnType<typeof streamConfig>, reconcile: boolean, placementWaitMs = PLACEMENT_WAIT_MS,
): Promise<EnsureResult> {
  let existing: StreamConfig;
  try {
    existing = (await jsm.streams.info(config.name)).config;
  } catch (err) {
    if (!isStreamNotFound(err)) throw err;
    return create(jsm, config, Date.now() + placementWaitMs);
  }
  if (!reconcile || !differs(existing, config)) return 'exists';
  // Another deployment's trail (other subject prefix, same stream name): taking it over would
  // make that deployment's workers fail closed, so refuse and name the setting instead.
  if (JSON.stringify(existing.subjects) !== JSON.stringify(config.subjects)) {
    throw new AuditStartError(`audit trail: the stream ${config.name} (SECRET_SVC_AUDIT_STREAM) holds ${(existing.subjects ?? []).join(', ')}, `
      + `not ${config.subjects!.join(', ')}: another deployment (another SECRET_SVC_SUBJECT_PREFIX) uses it; give this one its own SECRET_SVC_AUDIT_STREAM`);
  }
  if (weakness(existing, config).length > 0) return 'weakened, left as it is';
  // Storage and retention cannot change on an existing stream; replicas stay as an operator set them.
  const { name, storage: _storage, retention: _retention, num_replicas: _replicas, ...limits } = config;
  await jsm.streams.update(name, limits);
  return 'updated';
}

async function create(jsm: JetStreamManager, config: ReturnType<typeof streamConfig>, placementDeadline: number): Promise<EnsureResult> {
  for (;;) {
    try {
      await jsm.streams.add(config);
      return 'created';
    } catch (err) {
      // Another worker created it between our info and add.
      if (/already in use/i.test((err as Error).message)) return 'exists';
      const apiError = (err as NatsError).api_error;
      if ((config.num_replicas ?? 1) === 1 || !apiError) throw err;
      // Servers still joining: wait for them rather than settle for one copy for good.
      if (PLACEMENT_ERRORS.has(apiError.err_code ?? 0) && Date.now() < placementDeadline) {
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      // Not enough JetStream servers for the replicas: one copy is better than no trail.
      await jsm.streams.add({ ...config, num_replicas: 1 });
      return 'created with one replica';
    }
  }
}

function differs(existing: StreamConfig, wanted: ReturnType<typeof streamConfig>): boolean {
  return existing.max_age !== wanted.max_age
    || existing.storage !== wanted.storage
    || existing.max_bytes !== wanted.max_bytes
    || existing.discard !== wanted.discard
    || existing.retention !== wanted.retention
    || existing.duplicate_window !== wanted.duplicate_window
    || existing.deny_delete !== wanted.deny_delete
    || existing.deny_purge !== wanted.deny_purge
    || JSON.stringify(existing.subjects) !== JSON.stringify(wanted.subjects);
}

/** The start-up message when NATS has no JetStream: names the setting and how to turn it on. */
export function noJetStreamMessage(url: string): string {
  return `SECRET_SVC_AUDIT=jetstream (the default) needs JetStream, and the NATS server at ${url} has none: `
    + 'start nats-server with -js (and -sd <dir> for its store), or add `jetstream { store_dir: "/data/jetstream" }` '
    + 'to its configuration (for an account: `jetstream: enabled`); or set SECRET_SVC_AUDIT=off to run without an audit trail';
}
