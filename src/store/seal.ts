/**
 * Sealing values at rest: XSalsa20-Poly1305 (tweetnacl secretbox) under the configured key.
 * A sealed value is  0x01 | key id (4) | nonce (24) | box(binding tag (16) | value).
 * The binding tag hashes what the value belongs to (its secret key and access lists), so
 * a box copied to another record, or a record whose lists were edited in Redis, fails to open.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import { InternalError } from '../../client/src/protocol/index.js';

const FORMAT = 0x01;
const KEY_ID_BYTES = 4;
const NONCE_BYTES = nacl.secretbox.nonceLength;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + KEY_ID_BYTES + NONCE_BYTES;

export class IntegrityError extends InternalError {}

export class Sealer {
  /** A short public fingerprint of the key: records say which key sealed them. */
  readonly keyId: Buffer;

  constructor(private readonly key: Uint8Array) {
    if (key.length !== nacl.secretbox.keyLength) throw new Error('encryption key must be 32 bytes');
    this.keyId = createHmac('sha256', key).update('secret-svc key id').digest().subarray(0, KEY_ID_BYTES);
  }

  get keyIdText(): string {
    return this.keyId.toString('hex');
  }

  seal(binding: string, value: string): Buffer {
    const nonce = randomBytes(NONCE_BYTES);
    const plain = Buffer.concat([bindingTag(binding), Buffer.from(value, 'utf8')]);
    const box = nacl.secretbox(plain, nonce, this.key);
    return Buffer.concat([Buffer.from([FORMAT]), this.keyId, nonce, box]);
  }

  /** Opens a sealed value or throws IntegrityError (never returns a wrong value). */
  open(binding: string, sealed: Buffer): string {
    if (sealed.length < HEADER_BYTES + nacl.secretbox.overheadLength + TAG_BYTES || sealed[0] !== FORMAT) {
      throw new IntegrityError('stored record is malformed');
    }
    const keyId = sealed.subarray(1, 1 + KEY_ID_BYTES);
    if (!keyId.equals(this.keyId)) {
      throw new IntegrityError(`stored record was sealed by key ${keyId.toString('hex')}, not the configured key ${this.keyIdText}`);
    }
    const nonce = sealed.subarray(1 + KEY_ID_BYTES, HEADER_BYTES);
    const plain = nacl.secretbox.open(sealed.subarray(HEADER_BYTES), nonce, this.key);
    if (!plain) throw new IntegrityError('stored record failed its integrity check');
    const tag = Buffer.from(plain.buffer, plain.byteOffset, TAG_BYTES);
    if (!tag.equals(bindingTag(binding))) throw new IntegrityError('stored record does not belong to this secret');
    return Buffer.from(plain.buffer, plain.byteOffset + TAG_BYTES, plain.byteLength - TAG_BYTES).toString('utf8');
  }

  /** The key id a sealed value names, for diagnostics. */
  static keyIdOf(sealed: Buffer): string {
    return sealed.subarray(1, 1 + KEY_ID_BYTES).toString('hex');
  }
}

function bindingTag(binding: string): Buffer {
  return createHash('sha256').update('secret-svc/record\0').update(binding).digest().subarray(0, TAG_BYTES);
}
