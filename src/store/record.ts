/**
 * A secret's record as stored in its Redis hash, and its conversion to protocol shapes.
 * Fields are short and compact so that a small secret's hash stays in Redis's listpack
 * encoding (every field at most 64 bytes), which is several times smaller than a hashtable:
 *   v  version
 *   a  access lists: "readers|writers|deleters", each comma-joined; one list when all three are equal
 *   c  created: "<epoch ms, base 36> <slug>"      u  updated: the same
 *   h  sealed value header (format, key id, nonce) b  sealed box
 */
import type { SecretMetadata } from '@secret-svc/protocol';
import type { Acl } from '../policy.js';
import { IntegrityError, SEALED_HEADER_BYTES } from './seal.js';

/** The fields every record read fetches, in this order (the Lua scripts use the same). */
export const RECORD_FIELDS = ['v', 'a', 'c', 'u', 'h', 'b'] as const;

export interface StoredRecord {
  version: number;
  acl: Acl;
  /** The stored lists field verbatim: writes are guarded on it being unchanged. */
  aclField: string;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
  sealed: Buffer | undefined;
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

/** What a sealed value is bound to: its key and its lists. */
export function bindingOf(key: string, acl: string): string {
  return `${key}\0${acl}`;
}

/** A sealed value as the two stored fields [h, b]. */
export function sealedFields(sealed: Buffer): [Buffer, Buffer] {
  return [sealed.subarray(0, SEALED_HEADER_BYTES), sealed.subarray(SEALED_HEADER_BYTES)];
}

/** The HSET arguments of a new record (version 1), as write.lua's create writes it. */
export function newRecordFields(acl: string, stamp: string, sealed: Buffer): (string | Buffer)[] {
  const [h, b] = sealedFields(sealed);
  return ['v', '1', 'a', acl, 'c', stamp, 'u', stamp, 'h', h, 'b', b];
}

/** The text fields v, a, c, u and the sealed value; undefined when the record does not exist. */
export function parseRecord(fields: readonly Field[], sealed?: Buffer): StoredRecord | undefined {
  const [v, a, c, u] = fields;
  if (!v) return undefined;
  const version = Number(v.toString());
  const acl = parseAcl(a ? a.toString() : '');
  const [createdAt, createdBy] = parseStamp(c);
  // Never-updated records repeat their created stamp: skip formatting the date twice.
  const [updatedAt, updatedBy] = u && c && u.toString() === c.toString() ? [createdAt, createdBy] : parseStamp(u);
  if (!Number.isSafeInteger(version) || !acl || !createdAt || !updatedAt) {
    throw new IntegrityError('stored record is malformed');
  }
  return {
    version,
    acl,
    aclField: a ? a.toString() : '',
    createdAt, createdBy, updatedAt, updatedBy,
    sealed: sealed && sealed.length > 0 ? sealed : undefined,
  };
}

/** A record as HMGET of RECORD_FIELDS returns it. */
export function parseHashFields(fields: readonly Field[]): StoredRecord | undefined {
  const [h, b] = [fields[4], fields[5]];
  return parseRecord(fields, h && b ? Buffer.concat([Buffer.from(h), Buffer.from(b)]) : undefined);
}

/**
 * A record as the read scripts return it: "v\na\nc\nu\n" followed by the sealed value's
 * header and box (binary). One string per record instead of six keeps replies cheap to decode.
 */
export function parsePackedRecord(packed: Buffer | null | false | undefined): StoredRecord | undefined {
  if (!packed) return undefined;
  const fields: Buffer[] = [];
  let from = 0;
  for (let i = 0; i < 4; i++) {
    const nl = packed.indexOf(0x0a, from);
    if (nl < 0) throw new IntegrityError('stored record is malformed');
    fields.push(packed.subarray(from, nl));
    from = nl + 1;
  }
  return parseRecord(fields, packed.subarray(from));
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

function parseStamp(field: Field): [string, string] {
  const text = field ? field.toString() : '';
  const at = text.indexOf(' ');
  const ms = at > 0 ? parseInt(text.slice(0, at), 36) : NaN;
  if (!Number.isSafeInteger(ms) || Math.abs(ms) > 8.64e15) return ['', ''];
  return [isoTime(ms), text.slice(at + 1)];
}

const pad2 = (n: number) => (n < 10 ? '0' : '') + n;
const pad3 = (n: number) => (n < 10 ? '00' : n < 100 ? '0' : '') + n;

/** Date#toISOString, twice as fast for four-digit years (a list page formats 200 of these). */
export function isoTime(ms: number): string {
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  if (year < 1000 || year > 9999) return d.toISOString();
  return `${year}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}.${pad3(d.getUTCMilliseconds())}Z`;
}
