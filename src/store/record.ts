/** A secret's record as stored in its Redis hash, and its conversion to protocol shapes. */
import type { SecretMetadata } from '../../client/src/protocol/index.js';
import type { Acl } from '../policy.js';
import { IntegrityError } from './seal.js';

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

export function aclField(acl: Acl): string {
  return JSON.stringify([acl.readers, acl.writers, acl.deleters]);
}

export function stampField(at: string, by: string): string {
  return `${at} ${by}`;
}

/** What a sealed value is bound to: its key and its lists. */
export function bindingOf(key: string, acl: string): string {
  return `${key}\0${acl}`;
}

/** Fields in the order v, a, c, u[, b]; undefined when the record does not exist. */
export function parseRecord(fields: readonly Field[]): StoredRecord | undefined {
  const [v, a, c, u, b] = fields;
  if (!v) return undefined;
  const version = Number(v.toString());
  const aclText = a ? a.toString() : '';
  const [createdAt, createdBy] = splitStamp(c);
  const [updatedAt, updatedBy] = splitStamp(u);
  let lists: unknown;
  try {
    lists = JSON.parse(aclText);
  } catch {
    lists = undefined;
  }
  if (!Number.isSafeInteger(version) || !isLists(lists) || !createdAt || !updatedAt) {
    throw new IntegrityError('stored record is malformed');
  }
  return {
    version,
    acl: { readers: lists[0], writers: lists[1], deleters: lists[2] },
    aclField: aclText,
    createdAt, createdBy, updatedAt, updatedBy,
    sealed: b ? Buffer.from(b as Buffer) : undefined,
  };
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

function splitStamp(field: Field): [string, string] {
  const text = field ? field.toString() : '';
  const at = text.indexOf(' ');
  return at < 0 ? ['', ''] : [text.slice(0, at), text.slice(at + 1)];
}

function isLists(v: unknown): v is [string[], string[], string[]] {
  return Array.isArray(v) && v.length === 3 && v.every((l) => Array.isArray(l) && l.every((s) => typeof s === 'string'));
}
