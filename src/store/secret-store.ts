/**
 * The store, the only barrier (anchor: Vault's AESGCMBarrier): it owns the keyring, the
 * record encoding and the Lua argument shapes. This file is the request path; keyring
 * maintenance is keyring-maintenance.ts, revocation entries revocation-store.ts. Above it, operations speak of keys, values,
 * lists and versions; records come back MAC-checked with their value still sealed, and a
 * value is opened only by `open`, after the policy allowed the read.
 * Each call is one script, one round trip, with its nonce claim inside; the reads that arrive
 * together share theirs (read-batch.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { UnauthenticatedError, type VersionInfo } from '@secret-svc/protocol';
import type { NonceClaim } from '../auth/caller.js';
import type { Principal } from '../policy.js';
import type { RedisKeys } from './keys.js';
import { errorOutcome, outcomeHead, replayReply, successOutcome } from './outcome.js';
import {
  aclField, bindingOf, macParts, parseRecord, VerifiedRecords, parseStamp, parseVersion, sealedFields, SealedValue, stampField,
  type StoredRecord, type StoredVersion,
} from './record.js';
import { toStoreError } from './redis.js';
import { RevocationStore } from './revocation-store.js';
import { loadScripts, type ScriptName, type ScriptRunner } from './script-loader.js';
import { KeyringMaintenance } from './keyring-maintenance.js';
import { packArgs } from './lua-args.js';
import { ReadBatcher } from './read-batch.js';
import { IntegrityError, RetiredKeyError, type Sealer } from './seal.js';
import type { ReplyOf, WritePlan } from './write-plan.js';
import { changeBody, parseChange, type ChangeEntry } from './changes.js';
import { audience } from '../policy.js';

export interface Listed {
  key: string;
  record: StoredRecord | undefined;
}

/** `rev`: the revision an applied change took (docs/protocol.md §14); absent for a refusal or a resend. */
export type WriteResult<R> = { status: 'stale' } | { status: 'done'; reply: R; rev?: number };

/** Change entries after a revision (docs/protocol.md §14), MAC-checked. */
export interface ChangePage {
  /** The newest revision (0 before any change). */
  newest: number;
  /** The revision of the oldest entry kept (0: the log is empty). */
  oldest: number;
  /** The entries read, in ascending revision, without those that failed their check. */
  entries: ChangeEntry[];
  /** The revision of the last entry read (checked or not), or `since` when none was: where the next page starts. */
  last: number;
  /** How many entries failed their check (never reported; the caller logs them). */
  dropped: number;
  /** How many entries were tagged by a key no longer in the ring: not checkable, so missed (a watch gets `reset`). */
  retired: number;
}

/** One page of an index: its entries, whether more follow, its size by the script's measure. */
export interface ListPage {
  entries: Listed[];
  more: boolean;
  bytes: number;
}

/**
 * A reply that would exceed the byte budget it was asked within: nothing was claimed or
 * built; `bytes` is what it needs (for a list: its first entry).
 */
export class ReplyOverBudget extends Error {
  constructor(readonly bytes: number) {
    super(`reply of about ${bytes} bytes is over its budget`);
  }
}


export type PeekResult = { replayed: object } | { replayed?: undefined; record: StoredRecord | undefined };

export interface ReadResult {
  /** Per key, in order: the record (value fetched only when the caller may read it), or undefined. */
  records: (StoredRecord | undefined)[];
  /** With `version`: that version when kept and the caller may read it. */
  old: StoredVersion | undefined;
  /** The reply's size as the script measured it against the budget. */
  bytes: number;
}

export interface StoreOptions {
  maxVersions: number;
  /** How many change entries the log keeps (SECRET_SVC_WATCH_HISTORY). */
  watchHistory: number;
}

const REPLAYED = () => new UnauthenticatedError('nonce has already been used');

export class SecretStore {
  private readonly scripts: Record<ScriptName, ScriptRunner>;
  /** Reads (and claims) of the requests that arrive together: one script call (read-batch.ts). */
  private readonly reads: ReadBatcher;
  /** Records already verified, by their exact stored bytes (record.ts). */
  private readonly verified = new VerifiedRecords();
  /** The revocation entries (docs/protocol.md §10), in the same Redis under the same prefix and hash tag. */
  readonly revocations: RevocationStore;
  /** The canary, counts by key id and rewrap (docs/protocol.md §13): not on the request path. */
  readonly keyring: KeyringMaintenance;

  constructor(
    readonly redis: Redis | Cluster,
    readonly keys: RedisKeys,
    private readonly sealer: Sealer,
    private readonly options: StoreOptions,
  ) {
    this.scripts = loadScripts(redis);
    this.reads = new ReadBatcher(this.scripts.read);
    this.keyring = new KeyringMaintenance(redis, keys, sealer, (name, k, args) => this.run(name, k, args));
    this.revocations = new RevocationStore(keys, (name, k, args) => this.run(name, k, args), async (key) => {
      try {
        return await redis.get(key);
      } catch (err) {
        throw toStoreError(err);
      }
    });
  }

  get keyIdText(): string {
    return this.sealer.keyIdText;
  }

  get keyIds(): string[] {
    return this.sealer.keyIds;
  }

  /** Claims a nonce and nothing else (whoami). */
  async claim(nonce: NonceClaim): Promise<void> {
    await this.read(nonce, { slug: '', admin: false }, [], { budgetBytes: 0 });
  }

  /**
   * Claims the nonce and fetches records, deciding visibility and the reply's size inside
   * the script: over `budgetBytes` (0: none) it throws ReplyOverBudget before anything is
   * claimed, built or opened.
   */
  async read(nonce: NonceClaim, caller: Principal, keys: string[], o: { budgetBytes: number; version?: number }): Promise<ReadResult> {
    const reply = await this.reads.read({
      nonceKey: this.nonceKey(nonce), recordKeys: keys.map((k) => this.keys.record(k)), ttlMs: nonce.ttlMs,
      slug: caller.slug, admin: caller.admin, budgetBytes: o.budgetBytes, version: o.version === undefined ? '' : String(o.version),
    });
    if (reply === 0) throw REPLAYED();
    switch (reply[0]) {
      case 2: throw new ReplyOverBudget(Number(reply[1]));
      case 3: throw toStoreError(new Error(`read script failed: ${reply[1].toString('utf8')}`));
      default: {
        const packed = reply[1];
        const records = keys.map((key, i) => parseRecord(key, packed[i], this.sealer, this.verified));
        const first = records[0];
        const old = first && o.version !== undefined ? parseVersion(first, o.version, reply[2]) : undefined;
        return { records, old, bytes: Number(reply[3]) };
      }
    }
  }

  /** Opens a sealed value: the one place plaintext leaves the store. */
  open(sealed: SealedValue): string {
    return sealed.openWith(this.sealer);
  }

  /**
   * Claims the nonce and reads up to `limit` index entries between the lex bounds, fewer when
   * the next would take the page over `budgetBytes` (ReplyOverBudget when not even the first fits).
   */
  async list(nonce: NonceClaim, caller: Principal, min: string, max: string, o: { limit: number; budgetBytes: number }): Promise<ListPage> {
    const index = caller.admin ? this.keys.all : this.keys.visible(caller.slug);
    const reply = await this.run('list', [this.nonceKey(nonce), index], [nonce.ttlMs, min, max, o.limit, this.keys.recordPrefix, o.budgetBytes]);
    if (!Array.isArray(reply)) throw REPLAYED();
    if (Number(reply[0]) === 2) throw new ReplyOverBudget(Number(reply[1]));
    const [, keys, records, more, bytes] = reply as [number, Buffer[], (Buffer | null)[], number, number];
    const entries = keys.map((k, i) => {
      const key = k.toString('utf8');
      return { key, record: parseRecord(key, records[i], this.sealer, this.verified) };
    });
    return { entries, more: Number(more) === 1, bytes: Number(bytes) };
  }

  /** Claims the nonce; the record (without its value) and its kept versions, newest first. */
  async versions(nonce: NonceClaim, caller: Principal, key: string): Promise<{ record: StoredRecord | undefined; versions: VersionInfo[] }> {
    const reply = await this.run('versions', [this.nonceKey(nonce), this.keys.record(key)], [nonce.ttlMs, caller.slug, caller.admin ? '1' : '']);
    if (!Array.isArray(reply)) throw REPLAYED();
    const record = parseRecord(key, reply[0] as Buffer | null, this.sealer, this.verified);
    if (!record) return { record, versions: [] };
    const versions: VersionInfo[] = [{ version: record.version, updatedAt: record.updatedAt, updatedBy: record.updatedBy }];
    for (const entry of reply[1] as Buffer[]) {
      const text = entry.toString('utf8');
      const at = text.indexOf(' ');
      const [updatedAt, updatedBy] = parseStamp(text.slice(at + 1));
      if (!updatedAt) throw new IntegrityError('stored version is malformed');
      versions.push({ version: Number(text.slice(0, at)), updatedAt, updatedBy });
    }
    return { record, versions };
  }

  /** What a write decides on: the stored reply if the nonce was used, else the current record. */
  async peek(nonce: NonceClaim, key: string): Promise<PeekResult> {
    const [packed, used] = (await this.run('peek', [this.keys.record(key), this.nonceKey(nonce)], [])) as [Buffer | null, Buffer | null];
    if (used) return { replayed: replayReply(used.toString(), nonce.digest) };
    return { record: parseRecord(key, packed, this.sealer, this.verified) };
  }

  /** Commits a plan with its outcome (and, when applied, its change entry); 'stale' when the record changed since it was planned from. */
  async write<P extends WritePlan>(nonce: NonceClaim, plan: P): Promise<WriteResult<ReplyOf<P>>> {
    const args = this.writeArgs(plan);
    const keys = [
      this.nonceKey(nonce), this.keys.record(plan.key), this.keys.all, this.keys.changeLog, this.keys.changeRevision,
      ...args.indexes.map((s) => this.keys.visible(s)),
    ];
    // write.lua's one argument: its fields by name (the header of write.lua lists them).
    const packed = packArgs({
      mode: plan.mode, nonce_ttl: String(nonce.ttlMs), nonce_head: outcomeHead(nonce.digest), success: args.success, conflict: args.conflict,
      identity: args.identity, from_version: args.fromVersion, if_version: args.ifVersion, key: plan.key, remove_count: String(args.removeCount),
      acl: args.acl, created: args.created, mac: args.mac, stamp: args.stamp, head: args.head, box: args.box,
      keep_versions: String(this.options.maxVersions), change: args.change, keep_changes: String(this.options.watchHistory),
    });
    const [status, detail, rev] = (await this.run('write', keys, [packed])) as [string, string | number | undefined, number | undefined];
    switch (status) {
      case 'replay': return { status: 'done', reply: replayReply(String(detail), nonce.digest) as ReplyOf<P> };
      case 'stale': return { status: 'stale' };
      case 'conflict':
        if (plan.mode === 'reject') throw new IntegrityError('write script answered conflict to a refusal');
        throw plan.conflict;
      default:
        if (plan.mode === 'reject') throw plan.error;
        return { status: 'done', reply: plan.reply as ReplyOf<P>, ...(rev === undefined ? {} : { rev: Number(rev) }) };
    }
  }

  /**
   * Up to `count` change entries after `since`, with the newest and oldest kept revisions;
   * with `nonce`, claims it first in the same round trip (a used one: 401).
   */
  async changes(since: number, count: number, nonce?: NonceClaim): Promise<ChangePage> {
    const keys = [this.keys.changeLog, this.keys.changeRevision, ...(nonce ? [this.nonceKey(nonce)] : [])];
    const reply = await this.run('changes', keys, [since, count, nonce?.ttlMs ?? 0]);
    if (!Array.isArray(reply)) throw REPLAYED();
    const [newest, oldest, flat] = reply as [number, number, string[]];
    const page: ChangePage = { newest: Number(newest), oldest: Number(oldest), entries: [], last: since, dropped: 0, retired: 0 };
    for (let i = 0; i < flat.length; i += 2) {
      const rev = Number(flat[i + 1]);
      page.last = rev;
      try {
        page.entries.push(parseChange(flat[i]!, rev, this.sealer));
      } catch (err) {
        if (err instanceof RetiredKeyError) page.retired++;
        else if (err instanceof IntegrityError) page.dropped++;
        else throw err;
      }
    }
    return page;
  }

  /** The newest revision (0 before any change). */
  async newestRevision(): Promise<number> {
    try {
      return Number((await this.redis.get(this.keys.changeRevision)) ?? 0);
    } catch (err) {
      throw toStoreError(err);
    }
  }

  private writeArgs(plan: WritePlan) {
    const none = {
      identity: '', fromVersion: '', ifVersion: '', acl: '', created: '', mac: Buffer.alloc(0), stamp: '', head: Buffer.alloc(0), box: Buffer.alloc(0), change: '',
    };
    switch (plan.mode) {
      case 'reject':
        return { ...none, indexes: [], removeCount: 0, success: errorOutcome(plan.error), conflict: '' };
      case 'delete':
        return {
          ...none, ...indexChanges(plan.from.acl, undefined), identity: plan.from.identity, fromVersion: String(plan.from.version),
          ifVersion: plan.ifVersion === undefined ? '' : String(plan.ifVersion),
          success: successOutcome(plan.reply), conflict: errorOutcome(plan.conflict),
          change: changeBody(this.sealer, {
            op: 'delete', key: plan.key, version: plan.from.version, identity: plan.from.identity, atMs: plan.atMs,
            readersBefore: plan.from.acl.readers, readersAfter: undefined,
          }),
        };
      case 'create':
      case 'update': {
        const from = plan.mode === 'update' ? plan.from : undefined;
        const identity = from?.identity ?? randomBytes(8).toString('hex');
        const version = from ? from.version + 1 : 1;
        const stamp = stampField(plan.atMs, plan.by);
        const created = from?.createdStamp ?? stamp;
        const acl = aclField(plan.acl);
        let value = plan.value;
        if (value === undefined) {
          // Every update is a new version: the kept value is sealed again, bound to it.
          if (!from?.sealed) throw new IntegrityError('stored record has no value');
          value = this.open(from.sealed);
        }
        const [head, box] = sealedFields(this.sealer.seal(bindingOf(plan.key, identity, version, stamp), value));
        return {
          ...indexChanges(from?.acl, plan.acl), identity, fromVersion: from ? String(from.version) : '',
          ifVersion: plan.mode === 'update' && plan.ifVersion !== undefined ? String(plan.ifVersion) : '',
          acl, created, stamp, head, box,
          mac: this.sealer.recordMac(head, macParts(plan.key, version, acl, created, identity, stamp, head)),
          success: successOutcome({ ...plan.reply, version }), conflict: errorOutcome(plan.conflict),
          change: changeBody(this.sealer, {
            op: plan.mode, key: plan.key, version, identity, atMs: plan.atMs, readersBefore: from?.acl.readers, readersAfter: plan.acl.readers,
          }),
        };
      }
    }
  }

  private nonceKey(nonce: NonceClaim): string {
    return this.keys.nonce(nonce.callerKeyId, nonce.nonce);
  }

  private async run(name: ScriptName, keys: string[], args: (string | number | Buffer)[]): Promise<unknown> {
    try {
      return await this.scripts[name](keys, args);
    } catch (err) {
      throw toStoreError(err);
    }
  }
}

/** Index changes when a secret's lists go from `before` to `after`: the removed slugs first. */
function indexChanges(before: StoredRecord['acl'] | undefined, after: StoredRecord['acl'] | undefined): { indexes: string[]; removeCount: number } {
  const was = new Set(before ? audience(before) : []);
  const will = new Set(after ? audience(after) : []);
  const removeFrom = [...was].filter((s) => !will.has(s));
  return { indexes: [...removeFrom, ...[...will].filter((s) => !was.has(s))], removeCount: removeFrom.length };
}
