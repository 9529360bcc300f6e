/**
 * Sealing values at rest: XSalsa20-Poly1305 (tweetnacl secretbox).
 *
 * A sealed value is  header | box,  header = 0x02 | key id (4) | nonce (24).
 * The box is sealed under a subkey derived from the configured key and the value's
 * binding (its secret key and access lists): a box copied to another secret, or a record
 * whose lists were edited in Redis, fails to open, exactly like an altered byte. Deriving
 * the binding into the key instead of storing a tag keeps small records small.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import nacl from 'tweetnacl';
import { InternalError } from '@secret-svc/protocol';

const FORMAT = 0x02;
const KEY_ID_BYTES = 4;
const NONCE_BYTES = nacl.secretbox.nonceLength;
/** Bytes before the box; records store the two parts in separate fields. */
export const SEALED_HEADER_BYTES = 1 + KEY_ID_BYTES + NONCE_BYTES;

export class IntegrityError extends InternalError {}

export class Sealer {
  /** A short public fingerprint of the key: records say which key sealed them. */
  readonly keyId: Buffer;
  // Deriving a subkey (HMAC) costs more than opening a small box; hot secrets reuse theirs.
  private readonly subkeys = new LRUCache<string, Uint8Array>({ max: 10_000 });

  constructor(private readonly key: Uint8Array) {
    if (key.length !== nacl.secretbox.keyLength) throw new Error('encryption key must be 32 bytes');
    this.keyId = createHmac('sha256', key).update('secret-svc key id').digest().subarray(0, KEY_ID_BYTES);
  }

  get keyIdText(): string {
    return this.keyId.toString('hex');
  }

  seal(binding: string, value: string): Buffer {
    const nonce = randomBytes(NONCE_BYTES);
    const box = nacl.secretbox(Buffer.from(value, 'utf8'), nonce, this.subkey(binding));
    return Buffer.concat([Buffer.from([FORMAT]), this.keyId, nonce, box]);
  }

  /** Opens a sealed value or throws IntegrityError (never returns a wrong value). */
  open(binding: string, sealed: Buffer): string {
    if (sealed.length < SEALED_HEADER_BYTES + nacl.secretbox.overheadLength || sealed[0] !== FORMAT) {
      throw new IntegrityError('stored record is malformed');
    }
    const keyId = sealed.subarray(1, 1 + KEY_ID_BYTES);
    if (!keyId.equals(this.keyId)) {
      throw new IntegrityError(`stored record was sealed by key ${keyId.toString('hex')}, not the configured key ${this.keyIdText}`);
    }
    const nonce = sealed.subarray(1 + KEY_ID_BYTES, SEALED_HEADER_BYTES);
    const plain = nacl.secretbox.open(sealed.subarray(SEALED_HEADER_BYTES), nonce, this.subkey(binding));
    if (!plain) throw new IntegrityError('stored record failed its integrity check (altered, or not this secret\'s)');
    return Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength).toString('utf8');
  }

  /** The key id a sealed value names, for diagnostics. */
  static keyIdOf(sealed: Buffer): string {
    return sealed.subarray(1, 1 + KEY_ID_BYTES).toString('hex');
  }

  private subkey(binding: string): Uint8Array {
    let subkey = this.subkeys.get(binding);
    if (!subkey) {
      subkey = createHmac('sha256', this.key).update('secret-svc/record\0').update(binding).digest();
      this.subkeys.set(binding, subkey);
    }
    return subkey;
  }
}
