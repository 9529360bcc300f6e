/**
 * A secret's record as stored in its Redis hash (the layout scripts/includes/record.lua
 * reads and writes), its one parser, and its conversion to protocol shapes.
 * Fields are short so a small secret's hash stays in Redis's listpack encoding (every
 * field at most 64 bytes), several times smaller than a hashtable:
 *   v   current version
 *   a   access lists: "readers|writers|deleters", each comma-joined; one list when all three are equal
 *   c   created: "<epoch ms, base 36> <slug>"
 *   i   identity: 16 hex digits chosen at create (a re-created key gets another)
 *   m   record MAC (16 bytes) over key, v, a, c, i and the current version's u and h
 *   uN  version N's updated stamp (as c)     hN  version N's sealed head (header and tag, 45 bytes)
 *   bN  version N's ciphertext
 * Versions N are kept for the last maxVersions updates; the current one is N = v.
 */
import type { SecretMetadata } from '@secret-svc/protocol';
import type { Acl } from '../policy.js';
import { LRUCache } from 'lru-cache';
import { isoTime } from '../iso-time.js';
import { IntegrityError, RECORD_MAC_BYTES, SEALED_HEAD_BYTES, type Sealer } from './seal.js';

/** What the verified records may hold (their stored bytes, counted twice for the parsed copy). */
const VERIFIED_RECORDS_BYTES = 16 * 1024 * 1024;
const VERIFIED_ENTRY_OVERHEAD = 512;

/**
 * A sealed value, still sealed: an opaque handle. Opening it takes the keyring, which only
 * the store holds (SecretStore.open, after the policy allowed the read).
 */
export class SealedValue {
  readonly #binding: string;
  readonly #bytes: Buffer;
  readonly #memo: { subkey?: Uint8Array } | undefined;
  /** `memo`: shared by the opens of one verified record's value (Sealer.open). */
  constructor(binding: string, bytes: Buffer, memo?: { subkey?: Uint8Array }) {
    this.#binding = binding;
    this.#bytes = bytes;
    this.#memo = memo;
  }

  openWith(sealer: Sealer): string {
    return sealer.open(this.#binding, this.#bytes, this.#memo);
  }
}

/** A record whose MAC was verified. `sealed` is absent where the script did not fetch the value. */
export interface StoredRecord {
  key: string;
  version: number;
  acl: Acl;
  /** The stored lists field verbatim. */
  aclField: string;
  identity: string;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
  /** The raw created stamp (kept as is by updates). */
  createdStamp: string;
  /** The current version's raw updated stamp (its value is bound to it). */
  updatedStamp: string;
  /** The current version's value, when fetched. */
  sealed: SealedValue | undefined;
  /** The current version's sealed head (key id, nonce, tag). */
  head: Buffer;
  mac: Buffer;
}

/** An old version as the scripts return it: "stamp\n" .. h .. b. */
export interface StoredVersion {
  version: number;
  updatedAt: string;
  updatedBy: string;
  sealed: SealedValue;
}

type Field = Buffer | string | null | false | undefined;

/** Canonical (lists are normalized by the policy), so equal lists give equal fields. */
export function aclField(acl: Acl): string {
  const [r, w, d] = [acl.readers.join(','), acl.writers.join(','), acl.deleters.join(',')];
  return r === w && w === d ? r : `${r}|${w}|${d}`;
}

export function stampField(atMs: number, by: string): string {
  return `${atMs.toString(36)} ${by}`;
}

/** What version N of a secret's value is bound to: its key, the record's identity, N and N's stamp. */
export function bindingOf(key: string, identity: string, version: number, stamp: string): string {
  return `${key}\0${identity}\0${version}\0${stamp}`;
}

/** The parts the record MAC covers, in order. */
export function macParts(key: string, version: number, acl: string, created: string, identity: string, stamp: string, head: Buffer): (string | Buffer)[] {
  return ['secret-svc record v1', key, String(version), acl, created, identity, stamp, head];
}

/** A sealed value as the two stored fields [h, b]. */
export function sealedFields(sealed: Buffer): [Buffer, Buffer] {
  return [sealed.subarray(0, SEALED_HEAD_BYTES), sealed.subarray(SEALED_HEAD_BYTES)];
}

interface VerifiedEntry {
  bytes: Buffer;
  record: StoredRecord;
  binding: string;
  /** The value's subkey once derived (the head, and so the sealing key, is part of `bytes`). */
  memo: { subkey?: Uint8Array };
}

/**
 * Records whose stored bytes verified, as parsed, by key. The same bytes again (a hot
 * secret read again) are the same check with the same answer: a comparison replaces the
 * HMAC and the parse. Bytes that differ in any way are verified afresh. One per store (and
 * so per keyring); bounded by bytes, least recently used out (a miss costs one verification).
 */
export class VerifiedRecords {
  // Least recently used out, bounded by bytes: a record's lists may hold hundreds of slugs.
  private readonly entries = new LRUCache<string, VerifiedEntry>({
    maxSize: VERIFIED_RECORDS_BYTES,
    sizeCalculation: (entry, key) => 2 * entry.bytes.length + 2 * key.length + VERIFIED_ENTRY_OVERHEAD,
  });

  get(key: string, bytes: Buffer): VerifiedEntry | undefined {
    const hit = this.entries.get(key);
    return hit && hit.bytes.equals(bytes) ? hit : undefined;
  }

  set(key: string, bytes: Buffer, record: StoredRecord): VerifiedEntry {
    const own = Buffer.from(bytes);
    // Shared by every read that hits: frozen, so no caller can change what the next one gets.
    Object.freeze(record.acl.readers);
    Object.freeze(record.acl.writers);
    Object.freeze(record.acl.deleters);
    Object.freeze(record.acl);
    // The head and MAC on the kept copy: the reply buffer they came in is not held.
    const n = own.length;
    const mac = own.subarray(n - SEALED_HEAD_BYTES - RECORD_MAC_BYTES, n - SEALED_HEAD_BYTES);
    const entry = {
      bytes: own,
      record: Object.freeze({ ...record, mac, head: own.subarray(n - SEALED_HEAD_BYTES), sealed: undefined }),
      binding: bindingOf(key, record.identity, record.version, record.updatedStamp),
      memo: {},
    };
    this.entries.set(key, entry);
    return entry;
  }
}

/**
 * The one parser: a record as the scripts pack it (record.lua's pack):
 * "v\na\nc\ni\nu\n" .. m (16) .. h (45), then "B" .. b (binary) when the value was fetched.
 * Verifies the MAC before anything is decided on the record. false/null = absent.
 * With `verified`, bytes that verified before are taken as parsed then.
 */
export function parseRecord(key: string, packed: Field, sealer: Sealer, verified?: VerifiedRecords): StoredRecord | undefined {
  if (!packed) return undefined;
  const buf = typeof packed === 'string' ? Buffer.from(packed, 'latin1') : packed;
  // The five line ends, found once: a hit needs only where the stored bytes end, a miss parses between them.
  const ends: number[] = [];
  let from = 0;
  for (let i = 0; i < 5; i++) {
    const nl = buf.indexOf(0x0a, from);
    if (nl < 0) throw new IntegrityError('stored record is malformed');
    ends.push(nl);
    from = nl + 1;
  }
  const end = from + RECORD_MAC_BYTES + SEALED_HEAD_BYTES;
  const rest = buf.subarray(end);
  const box = rest.length > 0 && rest[0] === 0x42 ? rest.subarray(1) : undefined;
  const stored = buf.subarray(0, end);
  const known = verified?.get(key, stored);
  if (known) return withValue(known.record, known.binding, box, known.memo);
  const record = parseVerified(key, buf, ends, sealer);
  if (!verified) return withValue(record, bindingOf(key, record.identity, record.version, record.updatedStamp), box);
  const entry = verified.set(key, stored, record);
  return withValue(entry.record, entry.binding, box, entry.memo);
}

function withValue(record: StoredRecord, binding: string, box: Buffer | undefined, memo?: { subkey?: Uint8Array }): StoredRecord {
  // Without a value a verified record is handed out as it is: frozen, so no caller can change it.
  return box ? { ...record, sealed: new SealedValue(binding, Buffer.concat([record.head, box]), memo) } : record;
}

/** Parses the fields between the line ends `ends` and verifies the MAC; the value (if any) is left to withValue. */
function parseVerified(key: string, buf: Buffer, ends: readonly number[], sealer: Sealer): StoredRecord {
  const text: string[] = [];
  let from = 0;
  for (const nl of ends) {
    text.push(buf.subarray(from, nl).toString('utf8'));
    from = nl + 1;
  }
  const [v, a, c, identity, u] = text as [string, string, string, string, string];
  const mac = buf.subarray(from, from + RECORD_MAC_BYTES);
  const head = buf.subarray(from + RECORD_MAC_BYTES, from + RECORD_MAC_BYTES + SEALED_HEAD_BYTES);
  const version = Number(v);
  if (mac.length !== RECORD_MAC_BYTES || head.length !== SEALED_HEAD_BYTES || !/^[0-9a-f]{16}$/.test(identity) || !/^[1-9][0-9]*$/.test(v)) {
    throw new IntegrityError('stored record is malformed');
  }
  sealer.verifyRecord(head, macParts(key, version, a, c, identity, u, head), mac);
  const acl = parseAcl(a);
  const [createdAt, createdBy] = parseStamp(c);
  const [updatedAt, updatedBy] = u === c ? [createdAt, createdBy] : parseStamp(u);
  if (!Number.isSafeInteger(version) || !acl || !createdAt || !updatedAt) throw new IntegrityError('stored record is malformed');
  return {
    key, version, acl, aclField: a, identity, createdAt, createdBy, updatedAt, updatedBy, createdStamp: c, updatedStamp: u, head, mac, sealed: undefined,
  };
}

/** A record's whole hash, MAC-checked: the record and every kept version's sealed value, newest first (rewrap). */
export interface RecordHash {
  record: StoredRecord;
  versions: { version: number; stamp: string; sealed: Buffer }[];
}

/**
 * A record's hash as HGETALL returns it, through the one parser: its current fields are put in
 * the packed form record.lua's pack makes and read by parseRecord. Undefined when there is none.
 */
export function parseRecordHash(key: string, fields: Record<string, Buffer>, sealer: Sealer): RecordHash | undefined {
  const v = fields.v?.toString('utf8');
  if (!v) return undefined;
  const text = (name: string) => fields[name]?.toString('utf8') ?? '';
  const empty = Buffer.alloc(0);
  const packed = Buffer.concat([Buffer.from([v, text('a'), text('c'), text('i'), text(`u${v}`), ''].join('\n'), 'utf8'), fields.m ?? empty, fields[`h${v}`] ?? empty]);
  const record = parseRecord(key, packed, sealer)!;
  const versions: RecordHash['versions'] = [];
  for (let n = record.version; n >= 1 && fields[`h${n}`]; n--) {
    versions.push({ version: n, stamp: text(`u${n}`), sealed: Buffer.concat([fields[`h${n}`]!, fields[`b${n}`] ?? empty]) });
  }
  return { record, versions };
}

/** The record MAC of `record` were its current version's sealed head `head` (the stamp is that version's). */
export function recordMacWith(sealer: Sealer, record: StoredRecord, stamp: string, head: Buffer): Buffer {
  return sealer.recordMac(head, macParts(record.key, record.version, record.aclField, record.createdStamp, record.identity, stamp, head));
}

/** An old version as the scripts return it ("stamp\n" .. h .. b), bound to its record. */
export function parseVersion(record: StoredRecord, version: number, packed: Field): StoredVersion | undefined {
  if (!packed) return undefined;
  const buf = typeof packed === 'string' ? Buffer.from(packed, 'latin1') : packed;
  const nl = buf.indexOf(0x0a);
  if (nl < 0 || buf.length < nl + 1 + SEALED_HEAD_BYTES) throw new IntegrityError('stored version is malformed');
  const stamp = buf.subarray(0, nl).toString('utf8');
  const [updatedAt, updatedBy] = parseStamp(stamp);
  if (!updatedAt) throw new IntegrityError('stored version is malformed');
  return { version, updatedAt, updatedBy, sealed: new SealedValue(bindingOf(record.key, record.identity, version, stamp), buf.subarray(nl + 1)) };
}

/** A stamp as stored: [ISO time, slug], or ['', ''] when malformed. */
export function parseStamp(field: Field): [string, string] {
  const text = field ? field.toString() : '';
  const at = text.indexOf(' ');
  const ms = at > 0 ? parseInt(text.slice(0, at), 36) : NaN;
  if (!Number.isSafeInteger(ms) || Math.abs(ms) > 8.64e15) return ['', ''];
  return [isoTime(ms), text.slice(at + 1)];
}

export function metadataOf(key: string, r: Pick<StoredRecord, 'version' | 'acl' | 'createdAt' | 'createdBy' | 'updatedAt' | 'updatedBy'>): SecretMetadata {
  return {
    key,
    readers: r.acl.readers,
    writers: r.acl.writers,
    deleters: r.acl.deleters,
    version: r.version,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    createdBy: r.createdBy,
    updatedBy: r.updatedBy,
  };
}

const SLUG_LIST = /^[a-z0-9-]*(,[a-z0-9-]+)*$/;

function parseAcl(text: string): Acl | undefined {
  const parts = text.split('|');
  if ((parts.length !== 1 && parts.length !== 3) || !parts.every((p) => SLUG_LIST.test(p))) return undefined;
  const [r, w, d] = parts.length === 1 ? [parts[0]!, parts[0]!, parts[0]!] : (parts as [string, string, string]);
  const list = (p: string) => (p ? p.split(',') : []);
  return { readers: list(r), writers: list(w), deleters: list(d) };
}

/** Re-exported: the record's stamps are its main use. */
export { isoTime };

/** The HSET arguments of a new record (version 1), as write.lua's create writes them (bulk fills use it). */
export function newRecordFields(sealer: Sealer, key: string, acl: string, stamp: string, value: string, identity: string): (string | Buffer)[] {
  const [h, b] = sealedFields(sealer.seal(bindingOf(key, identity, 1, stamp), value));
  const m = sealer.recordMac(h, macParts(key, 1, acl, stamp, identity, stamp, h));
  return ['v', '1', 'a', acl, 'c', stamp, 'i', identity, 'm', m, 'u1', stamp, 'h1', h, 'b1', b];
}
