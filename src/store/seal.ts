/**
 * Sealing values at rest under a keyring (docs/protocol.md §13): XSalsa20-Poly1305 secretbox
 * (libsodium's, src/crypto/native-secretbox.ts). The ring's first key seals; every key opens; each sealed value names its key.
 *
 * A sealed value is  header | tag | ciphertext,  header = 0x03 | key id (4) | nonce (24).
 * The box is sealed under a subkey derived from the sealing key and the value's binding
 * (its secret key, the record's identity, its version and stamp): a box moved to another
 * secret, version or re-created key fails to open, exactly like an altered byte.
 * Records store [header | tag] (45 bytes) and the ciphertext in two fields, so a small
 * secret's hash stays in Redis's compact encoding and scripts can read the tag cheaply.
 */
import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import nacl from 'tweetnacl';
import { InternalError } from '@secret-svc/protocol';
import { workerSecretbox } from '../crypto/native-secretbox.js';

const FORMAT = 0x03;
const KEY_ID_BYTES = 4;
const NONCE_BYTES = nacl.secretbox.nonceLength;
const TAG_BYTES = nacl.secretbox.overheadLength;
/** Bytes before the box. */
const HEADER_BYTES = 1 + KEY_ID_BYTES + NONCE_BYTES;
/** Header and the box's tag: the short field (h) of a stored sealed value. */
export const SEALED_HEAD_BYTES = HEADER_BYTES + TAG_BYTES;
export const RECORD_MAC_BYTES = 16;
/** The subkey cache holds at most this many bytes (digest key + subkey + bookkeeping). */
const SUBKEY_CACHE_BYTES = 4 * 1024 * 1024;
const SUBKEY_ENTRY_BYTES = 128;
/** Bindings up to this long key the subkey cache as they are (a secret's key is at most 256). */
const DIRECT_BINDING_CHARS = 512;

export class IntegrityError extends InternalError {}

/** Something stored under a key the ring no longer holds: it cannot be checked (not: it was altered). */
export class RetiredKeyError extends IntegrityError {}


/** A key id as §13 defines it: the first 8 hex digits of HMAC-SHA256(key, "secret-svc key id"). */
export function keyIdOf(key: Uint8Array): string {
  return createHmac('sha256', key).update('secret-svc key id').digest().subarray(0, KEY_ID_BYTES).toString('hex');
}

interface RingKey {
  id: string;
  idBytes: Buffer;
  key: Uint8Array;
  /** Authenticates records; derived, never the data key itself. */
  macKey: Buffer;
}

/** A key derived from one ring key, named by that key's id (§13): what other parts of the worker get instead of ring keys. */
export interface DerivedKey {
  /** The ring key's id, 4 bytes. */
  id: Buffer;
  key: Buffer;
}

/** The keyring: seals with the first key, opens with any, authenticates records. */
export class Sealer {
  private readonly ring: RingKey[];
  private readonly byId = new Map<string, RingKey>();
  // Deriving a subkey (HMAC) costs more than opening a small box; hot secrets reuse theirs.
  // Keyed by key id and binding (or its digest), bounded by bytes: the key's length counts.
  private readonly subkeys = new LRUCache<string, Uint8Array>({
    maxSize: SUBKEY_CACHE_BYTES,
    sizeCalculation: (_subkey, id) => SUBKEY_ENTRY_BYTES + 2 * id.length,
  });

  constructor(keys: Uint8Array | readonly Uint8Array[]) {
    const list = keys instanceof Uint8Array ? [keys] : [...keys];
    if (list.length === 0) throw new Error('the keyring holds no key');
    this.ring = list.map((key) => {
      if (key.length !== nacl.secretbox.keyLength) throw new Error('encryption key must be 32 bytes');
      const id = keyIdOf(key);
      return { id, idBytes: Buffer.from(id, 'hex'), key, macKey: Buffer.from(hkdfSync('sha256', key, '', 'secret-svc record mac', 32)) };
    });
    for (const k of this.ring) {
      if (this.byId.has(k.id)) throw new Error(`the keyring holds key id ${k.id} twice`);
      this.byId.set(k.id, k);
    }
  }

  /** The sealing (first) key's id. */
  get keyIdText(): string {
    return this.ring[0]!.id;
  }

  /** Every ring key's id, in ring order. */
  get keyIds(): string[] {
    return this.ring.map((k) => k.id);
  }

  seal(binding: string, value: string): Buffer {
    const k = this.ring[0]!;
    const nonce = randomBytes(NONCE_BYTES);
    const box = workerSecretbox.seal(Buffer.from(value, 'utf8'), nonce, this.subkey(k, binding));
    return Buffer.concat([Buffer.from([FORMAT]), k.idBytes, nonce, box]);
  }

  /**
   * Opens a sealed value or throws IntegrityError (never returns a wrong value). `memo`
   * keeps the subkey for the next open of the same binding under the same head (a verified
   * record's, src/store/record.ts), which then skips the subkey cache's lookup.
   */
  open(binding: string, sealed: Buffer, memo?: { subkey?: Uint8Array }): string {
    if (sealed.length < SEALED_HEAD_BYTES || sealed[0] !== FORMAT) throw new IntegrityError('stored record is malformed');
    let subkey = memo?.subkey;
    if (!subkey) {
      subkey = this.subkey(this.ringKeyOf(sealed), binding);
      if (memo) memo.subkey = subkey;
    }
    const nonce = sealed.subarray(1 + KEY_ID_BYTES, HEADER_BYTES);
    const plain = workerSecretbox.open(sealed.subarray(HEADER_BYTES), nonce, subkey);
    if (!plain) throw new IntegrityError('stored record failed its integrity check (altered, or not this secret\'s)');
    return Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength).toString('utf8');
  }

  /**
   * HKDF-SHA256(ring key, salt, info), 32 bytes, for every ring key in ring order (the first
   * seals). Tickets are sealed under such keys (docs/protocol.md §12): the ring keys
   * themselves never leave the store.
   */
  derivedKeys(info: string, salt: Uint8Array = new Uint8Array(0)): DerivedKey[] {
    return this.ring.map((k) => ({ id: k.idBytes, key: Buffer.from(hkdfSync('sha256', k.key, salt, info, 32)) }));
  }

  /** Whether a sealed value is under the first key (rewrap leaves it alone). */
  isCurrent(sealed: Buffer): boolean {
    return sealed.subarray(1, 1 + KEY_ID_BYTES).equals(this.ring[0]!.idBytes);
  }

  /** The record MAC under the key that sealed `sealed` (the record's current value). */
  recordMac(sealed: Buffer, parts: readonly (string | Buffer)[]): Buffer {
    return macUnder(this.ringKeyOf(sealed), parts);
  }

  /**
   * A change entry's tag (docs/protocol.md §14): the first key's id, then the record MAC
   * under it, so an entry stays checkable while its key is in the ring.
   */
  entryTag(parts: readonly (string | Buffer)[]): Buffer {
    const k = this.ring[0]!;
    return Buffer.concat([k.idBytes, macUnder(k, parts)]);
  }

  /**
   * Throws unless `tag` (from entryTag) authenticates the parts: RetiredKeyError when its key
   * is no longer in the ring (the entry cannot be checked), IntegrityError when it fails.
   */
  verifyEntry(parts: readonly (string | Buffer)[], tag: Buffer): void {
    if (tag.length !== KEY_ID_BYTES + RECORD_MAC_BYTES) throw new IntegrityError('stored change entry is malformed');
    const id = tag.subarray(0, KEY_ID_BYTES).toString('hex');
    const k = this.byId.get(id);
    if (!k) throw new RetiredKeyError(`stored change entry was tagged by key ${id}, which is not in the keyring`);
    if (!timingSafeEqual(tag.subarray(KEY_ID_BYTES), macUnder(k, parts))) throw new IntegrityError('stored change entry failed its integrity check');
  }

  /** Throws IntegrityError unless `mac` authenticates the record parts. */
  verifyRecord(sealed: Buffer, parts: readonly (string | Buffer)[], mac: Buffer): void {
    const expected = this.recordMac(sealed, parts);
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) {
      throw new IntegrityError('stored record failed its integrity check (fields altered in Redis)');
    }
  }

  /** Bytes the subkey cache accounts for (bounded by SUBKEY_CACHE_BYTES). */
  get subkeyCacheBytes(): number {
    return this.subkeys.calculatedSize;
  }

  /** The id of the ring key that sealed `sealed` (its header names it). */
  static sealingKeyIdOf(sealed: Buffer): string {
    return sealed.subarray(1, 1 + KEY_ID_BYTES).toString('hex');
  }

  private ringKeyOf(sealed: Buffer): RingKey {
    const id = Sealer.sealingKeyIdOf(sealed);
    const k = this.byId.get(id);
    if (!k) throw new IntegrityError(`stored record was sealed by key ${id}, which is not in the keyring (${this.keyIds.join(', ')})`);
    return k;
  }

  private subkey(k: RingKey, binding: string): Uint8Array {
    // An ordinary binding is its own cache key (hashing it cost as much as a hit saved); a long one is digested.
    const id = binding.length <= DIRECT_BINDING_CHARS
      ? `${k.id}\0${binding}`
      : createHash('sha256').update(k.id).update('\0').update(binding).digest('base64');
    let subkey = this.subkeys.get(id);
    if (!subkey) {
      subkey = createHmac('sha256', k.key).update('secret-svc/record\0').update(binding).digest();
      this.subkeys.set(id, subkey);
    }
    return subkey;
  }
}

/** The record MAC key's HMAC over length-prefixed parts. */
function macUnder(k: RingKey, parts: readonly (string | Buffer)[]): Buffer {
  // Each part prefixed with its 4-byte big-endian length, all in one buffer and one update():
  // a call into the hash per part cost more than the hashing (20-key reads MAC 20 records).
  let total = 0;
  for (const part of parts) total += 4 + (typeof part === 'string' ? Buffer.byteLength(part, 'utf8') : part.length);
  const bytes = Buffer.allocUnsafe(total);
  let at = 0;
  for (const part of parts) {
    const lengthAt = at;
    at += 4;
    at += typeof part === 'string' ? bytes.write(part, at, 'utf8') : part.copy(bytes, at);
    bytes.writeUInt32BE(at - lengthAt - 4, lengthAt);
  }
  return createHmac('sha256', k.macKey).update(bytes).digest().subarray(0, RECORD_MAC_BYTES);
}
