/** Secret storage in Redis: each call is one script, one round trip, with its nonce claim inside. */
import type { Cluster, Redis } from 'ioredis';
import { UnauthenticatedError } from '@secret-svc/protocol';
import type { RedisKeys } from './keys.js';
import { parsePackedRecord, parseRecord, sealedFields, type StoredRecord } from './record.js';
import { toStoreError } from './redis.js';
import { loadScripts, type ScriptRunner } from './scripts.js';

/** A nonce to claim with the operation: its Redis key, how long to keep it, and the request digest. */
export interface NonceClaim {
  key: string;
  ttlMs: number;
  digest: string;
}

export interface Listed {
  key: string;
  /** undefined if the record vanished between index and fetch (it cannot, writes are atomic). */
  record: StoredRecord | undefined;
}

export interface WriteCommand {
  mode: 'create' | 'update' | 'delete' | 'reject';
  key: string;
  successOutcome: string;
  conflictOutcome: string;
  expectedAcl: string;
  ifVersion: number | undefined;
  aclField: string;
  removeFrom: string[];
  addTo: string[];
  created: string;
  updated: string;
  sealed: Buffer | undefined;
}

export type WriteResult =
  | { status: 'replay'; stored: string }
  | { status: 'stale' }
  | { status: 'conflict'; version: number }
  | { status: 'ok'; version: number };

const REPLAYED = () => new UnauthenticatedError('nonce has already been used');

export class SecretStore {
  private readonly scripts: Record<'read' | 'list' | 'peek' | 'write', ScriptRunner>;

  constructor(readonly redis: Redis | Cluster, readonly keys: RedisKeys) {
    this.scripts = loadScripts(redis);
  }

  /** Claims the nonce and fetches the records (undefined where absent). */
  async read(nonce: NonceClaim, keys: string[]): Promise<(StoredRecord | undefined)[]> {
    const reply = await this.run('read', [nonce.key, ...keys.map((k) => this.keys.record(k))], [nonce.ttlMs]);
    if (!Array.isArray(reply)) throw REPLAYED();
    return reply.map((packed) => parsePackedRecord(packed as Buffer | null));
  }

  /** Claims the nonce and reads up to `count` index entries between the lex bounds. */
  async list(nonce: NonceClaim, index: string, min: string, max: string, count: number): Promise<Listed[]> {
    const reply = await this.run('list', [nonce.key, index], [nonce.ttlMs, min, max, count, this.keys.recordPrefix]);
    if (!Array.isArray(reply)) throw REPLAYED();
    const [keys, records] = reply as [string[], (string | null)[]];
    return keys.map((key, i) => ({ key, record: records[i] ? parseRecord(records[i].split('\n')) : undefined }));
  }

  /** What a write decides on: the nonce's stored value, if used, and the current record. */
  async peek(nonce: NonceClaim, key: string): Promise<{ used: string | undefined; record: StoredRecord | undefined }> {
    const [used, packed] = (await this.run('peek', [nonce.key, this.keys.record(key)], [])) as [Buffer | null, Buffer | null];
    return { used: used ? used.toString() : undefined, record: parsePackedRecord(packed) };
  }

  async write(nonce: NonceClaim, c: WriteCommand): Promise<WriteResult> {
    const keys = [nonce.key, this.keys.record(c.key), this.keys.all, ...[...c.removeFrom, ...c.addTo].map((s) => this.keys.visible(s))];
    const args = [
      c.mode, nonce.ttlMs, `w1|${nonce.digest}`, c.successOutcome, c.conflictOutcome, c.expectedAcl,
      c.ifVersion === undefined ? '' : String(c.ifVersion), c.key, c.aclField, c.removeFrom.length,
      c.created, c.updated, ...(c.sealed ? sealedFields(c.sealed) : ['', '']),
    ];
    const [status, detail] = (await this.run('write', keys, args)) as [string, string | number | undefined];
    switch (status) {
      case 'replay': return { status: 'replay', stored: String(detail) };
      case 'stale': return { status: 'stale' };
      case 'conflict': return { status: 'conflict', version: Number(detail) };
      default: return { status: 'ok', version: Number(detail) };
    }
  }

  private async run(name: 'read' | 'list' | 'peek' | 'write', keys: string[], args: (string | number | Buffer)[]): Promise<unknown> {
    try {
      return await this.scripts[name](keys, args);
    } catch (err) {
      throw toStoreError(err);
    }
  }
}
