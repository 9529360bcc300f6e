/**
 * Keyring maintenance (docs/protocol.md §13), beside the request path: the canary that proves
 * a keyring opens the data at start (canary.ts), stored values counted by the key that sealed
 * them (`keys status`), and moving them to the ring's first key (`keys rewrap`). Records are
 * read and written in the layout record.ts owns.
 */
import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';
import { bindingOf, newRecordFields, parseRecord, parseRecordHash, recordMacWith, sealedFields, stampField, type StoredRecord } from './record.js';
import { toStoreError } from './redis.js';
import type { ScriptName } from './script-loader.js';
import { IntegrityError, Sealer } from './seal.js';

export type RewrapResult = 'moved' | 'current' | 'changed' | 'failed' | 'gone';

/** Records (a secret with its kept versions, or the canary) by result. */
export interface RewrapTally extends Record<RewrapResult, number> {
  /** Keys written meanwhile (the compare-and-set refused): try them again. */
  changedKeys: string[];
  canaryChanged: boolean;
  /** Records no ring key opens (or whose MAC fails); `message` never holds a value. */
  failures: { key: string; message: string }[];
}

type RunScript = (name: ScriptName, keys: string[], args: (string | number | Buffer)[]) => Promise<unknown>;

const CANARY_KEY = '#canary';
const CANARY_TEXT = 'secret-svc canary v1';

export class KeyringMaintenance {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly keys: RedisKeys,
    private readonly sealer: Sealer,
    private readonly run: RunScript,
  ) {}

  /**
   * The canary, read through the record path: 'verified' when some ring key opens it (an
   * IntegrityError when none does), 'absent' when there is none. Starting reseals nothing.
   */
  async readCanary(): Promise<'verified' | 'absent'> {
    const [packed] = (await this.run('peek', [this.keys.canary], [])) as [Buffer | null];
    const record = parseRecord(CANARY_KEY, packed, this.sealer);
    if (!record) return 'absent';
    if (!record.sealed || record.sealed.openWith(this.sealer) !== CANARY_TEXT) throw new IntegrityError('the canary holds another text');
    return 'verified';
  }

  /** Creates the canary under the first key unless one exists (another worker's wins). */
  async createCanary(): Promise<void> {
    const fields = newRecordFields(this.sealer, CANARY_KEY, '', stampField(Date.now(), 'canary'), CANARY_TEXT, randomBytes(8).toString('hex'));
    await this.run('canary', [this.keys.canary], fields);
  }

  /** The first stored secret's record (MAC-checked), to prove the keyring when there is no canary. */
  async firstRecord(): Promise<StoredRecord | undefined> {
    const [first] = await this.redis.zrange(this.keys.all, 0, 0);
    if (first === undefined) return undefined;
    const [packed] = (await this.run('peek', [this.keys.record(first)], [])) as [Buffer | null];
    return parseRecord(first, packed, this.sealer);
  }

  /** How many stored values (every kept version and the canary) each key id seals. */
  async countByKeyId(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    const add = (id: string, n: number) => counts.set(id, (counts.get(id) ?? 0) + n);
    let from = '-';
    for (;;) {
      const [last, flat] = (await this.run('keycount', [this.keys.all], [from, 500, this.keys.recordPrefix])) as [Buffer | null, (Buffer | number)[]];
      for (let i = 0; i < flat.length; i += 2) add((flat[i] as Buffer).toString('hex'), Number(flat[i + 1]));
      if (!last) break;
      from = `(${last.toString('utf8')}`;
    }
    const canaryHead = await this.redis.hgetBuffer(this.keys.canary, 'h1');
    if (canaryHead) add(Sealer.sealingKeyIdOf(canaryHead), 1);
    return counts;
  }

  /** Up to `count` stored keys after `after` (exclusive; from the start when undefined), in key order. */
  async keysAfter(after: string | undefined, count: number): Promise<string[]> {
    try {
      return await this.redis.zrangebylex(this.keys.all, after === undefined ? '-' : `(${after}`, '+', 'LIMIT', 0, count);
    } catch (err) {
      throw toStoreError(err);
    }
  }

  /** How many secrets are stored. */
  async secretCount(): Promise<number> {
    try {
      return await this.redis.zcard(this.keys.all);
    } catch (err) {
      throw toStoreError(err);
    }
  }

  /**
   * Moves the records of a batch of keys (and the canary, with `canary`) to the keyring's
   * first key, each only if unchanged since it was read (compare-and-set in rewrap.lua).
   * The batch runs concurrently (one read and one script per record). A record deleted
   * meanwhile counts as `gone`; a missing canary is not counted. `changedKeys` (and
   * `canaryChanged`) are the ones to try again.
   */
  async rewrap(keys: string[], o: { canary?: boolean } = {}): Promise<RewrapTally> {
    const tally: RewrapTally = { moved: 0, current: 0, changed: 0, failed: 0, gone: 0, changedKeys: [], canaryChanged: false, failures: [] };
    const targets: [string, string][] = keys.map((k) => [k, this.keys.record(k)]);
    if (o.canary) targets.push([CANARY_KEY, this.keys.canary]);
    await Promise.all(targets.map(async ([key, hash]) => {
      let result: RewrapResult;
      try {
        result = await this.rewrapOne(key, hash);
      } catch (err) {
        if (!(err instanceof IntegrityError)) throw toStoreError(err);
        tally.failures.push({ key, message: err.message });
        result = 'failed';
      }
      if (key === CANARY_KEY && result === 'gone') return;
      tally[result]++;
      if (result === 'changed') {
        if (key === CANARY_KEY) tally.canaryChanged = true;
        else tally.changedKeys.push(key);
      }
    }));
    return tally;
  }

  private async rewrapOne(key: string, hash: string): Promise<Exclude<RewrapResult, 'failed'>> {
    const stored = parseRecordHash(key, await this.redis.hgetallBuffer(hash), this.sealer);
    if (!stored) return 'gone';
    const { record, versions } = stored;
    const moves: (string | Buffer)[] = [];
    let newHead = record.head;
    for (const { version, stamp, sealed } of versions) {
      if (this.sealer.isCurrent(sealed)) continue;
      const binding = bindingOf(key, record.identity, version, stamp);
      const [h, b] = sealedFields(this.sealer.seal(binding, this.sealer.open(binding, sealed)));
      if (version === record.version) newHead = h;
      moves.push(String(version), h, b);
    }
    if (moves.length === 0) return 'current';
    const mac = recordMacWith(this.sealer, record, versions[0]!.stamp, newHead);
    const applied = await this.run('rewrap', [hash], [record.mac, mac, ...moves]);
    return Number(applied) === 1 ? 'moved' : 'changed';
  }
}
