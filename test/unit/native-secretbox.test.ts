/**
 * The worker's libsodium secretbox gives tweetnacl's bytes (the reference): what one seals the
 * other opens, and a flipped byte, a cut box or another key fails in both.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TWEETNACL_SECRETBOX } from '@secret-svc/protocol/internal';
import { NATIVE_SECRETBOX, workerSecretbox } from '../../src/crypto/native-secretbox.js';

describe('the worker secretbox', () => {
  it('is libsodium on this platform', () => {
    expect(NATIVE_SECRETBOX).toBe(true);
  });

  it('seals exactly as tweetnacl does and opens what tweetnacl sealed, for sizes 0 to 1 MB', () => {
    for (const size of [0, 1, 15, 16, 17, 63, 64, 1000, 60_000, 1_048_576]) {
      const key = randomBytes(32), nonce = randomBytes(24), message = randomBytes(size);
      const native = workerSecretbox.seal(message, nonce, key);
      const reference = TWEETNACL_SECRETBOX.seal(message, nonce, key);
      expect(Buffer.from(native).equals(Buffer.from(reference)), `size ${size}`).toBe(true);
      expect(Buffer.from(workerSecretbox.open(reference, nonce, key)!).equals(message)).toBe(true);
      expect(Buffer.from(TWEETNACL_SECRETBOX.open(native, nonce, key)!).equals(message)).toBe(true);
    }
  });

  it('refuses a flipped byte, a cut box, another key or another nonce, like tweetnacl', () => {
    const key = randomBytes(32), nonce = randomBytes(24), message = randomBytes(100);
    const box = Buffer.from(workerSecretbox.seal(message, nonce, key));
    for (let i = 0; i < box.length; i += 7) {
      const flipped = Buffer.from(box);
      flipped[i]! ^= 0x01;
      expect(workerSecretbox.open(flipped, nonce, key)).toBeNull();
    }
    for (const cut of [0, 1, 15, 16, box.length - 1]) expect(workerSecretbox.open(box.subarray(0, cut), nonce, key)).toBeNull();
    expect(workerSecretbox.open(box, nonce, randomBytes(32))).toBeNull();
    expect(workerSecretbox.open(box, randomBytes(24), key)).toBeNull();
  });
});
