/**
 * The change log's entries (docs/protocol.md §14), as write.lua appends them and
 * changes.lua returns them. The log is a Redis stream; an entry's ID is "<rev>-0" and its
 * one field `e` holds
 *
 *   "<op>\n<key>\n<version>\n<identity>\n<at, epoch ms base 36>\n<readers before>\n<readers after>\n<tag>"
 *
 * readers: comma-joined slugs, "!" when the secret did not exist (before a create, after a
 * delete); version: after the change (a delete: the version deleted); identity: the
 * record's, so each (key, identity, version, op) names one change; tag: base64url of the
 * Sealer's entry tag (key id and record MAC) over every field. The revision is assigned
 * inside the script that commits the write, where no key is, so the MAC cannot cover it: it
 * is the entry's place in the log (a stream only appends, in increasing IDs).
 */
import { fromBase64url, toBase64url, type ChangeOp } from '@secret-svc/protocol';
import { IntegrityError, type Sealer } from './seal.js';

/** A committed change, MAC-checked. */
export interface ChangeEntry {
  rev: number;
  key: string;
  op: ChangeOp;
  /** The version after the change; for a delete, the version deleted. */
  version: number;
  atMs: number;
  /** The readers before the change (undefined: the secret did not exist). */
  readersBefore: readonly string[] | undefined;
  /** The readers after it (undefined: deleted). */
  readersAfter: readonly string[] | undefined;
}

/** What a write appends, before the script gives it its revision. */
export type NewChange = Omit<ChangeEntry, 'rev'> & { identity: string };

const ABSENT = '!';
const OPS: ReadonlySet<string> = new Set<ChangeOp>(['create', 'update', 'delete']);
const SLUGS = /^[a-z0-9-]*(,[a-z0-9-]+)*$/;

function readersField(readers: readonly string[] | undefined): string {
  return readers === undefined ? ABSENT : readers.join(',');
}

function macParts(fields: readonly string[]): string[] {
  return ['secret-svc change v1', ...fields];
}

/** The entry's body (its field `e`), tagged. */
export function changeBody(sealer: Sealer, c: NewChange): string {
  const fields = [c.op, c.key, String(c.version), c.identity, c.atMs.toString(36), readersField(c.readersBefore), readersField(c.readersAfter)];
  return `${fields.join('\n')}\n${toBase64url(sealer.entryTag(macParts(fields)))}`;
}

/** One stored body at revision `rev`, checked; IntegrityError when it is malformed or its tag does not verify. */
export function parseChange(body: string, rev: number, sealer: Sealer): ChangeEntry {
  const parts = body.split('\n');
  if (parts.length !== 8 || !Number.isSafeInteger(rev) || rev < 1) throw new IntegrityError('stored change entry is malformed');
  const fields = parts.slice(0, 7);
  const tag = fromBase64url(parts[7]!);
  if (!tag) throw new IntegrityError('stored change entry is malformed');
  sealer.verifyEntry(macParts(fields), tag);
  const [op, key, versionText, , atText, before, after] = fields as [string, string, string, string, string, string, string];
  const version = Number(versionText);
  const atMs = parseInt(atText, 36);
  if (!OPS.has(op) || !Number.isSafeInteger(version) || !Number.isSafeInteger(atMs)) {
    throw new IntegrityError('stored change entry is malformed');
  }
  return { rev, key, op: op as ChangeOp, version, atMs, readersBefore: readersOf(before), readersAfter: readersOf(after) };
}

function readersOf(field: string): readonly string[] | undefined {
  if (field === ABSENT) return undefined;
  if (!SLUGS.test(field)) throw new IntegrityError('stored change entry is malformed');
  return field ? field.split(',') : [];
}

