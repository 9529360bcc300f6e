/**
 * XSalsa20-Poly1305 secretbox from libsodium (sodium-native, which ships prebuilt binaries)
 * for the worker: the same primitive and bytes as tweetnacl's `secretbox`, about 12 times
 * faster (a 60 KB value: 39 µs instead of 457 µs; bench/README.md). The worker seals and
 * opens every value and every session reply, so this is where the cipher's cost lands. The
 * client and the protocol's reference stay on tweetnacl; test/unit/native-secretbox.test.ts
 * checks that both give the same bytes. Where no binary loads, tweetnacl is used instead.
 */
import { createRequire } from 'node:module';
import nacl from 'tweetnacl';
import { TWEETNACL_SECRETBOX, type SecretboxPrimitive } from '@secret-svc/protocol/internal';

interface Sodium {
  crypto_secretbox_easy(c: Uint8Array, m: Uint8Array, n: Uint8Array, k: Uint8Array): void;
  crypto_secretbox_open_easy(m: Uint8Array, c: Uint8Array, n: Uint8Array, k: Uint8Array): boolean;
}

const TAG_BYTES = nacl.secretbox.overheadLength;

function load(): Sodium | undefined {
  try {
    return createRequire(import.meta.url)('sodium-native') as Sodium;
  } catch {
    return undefined;
  }
}

function fromSodium(sodium: Sodium): SecretboxPrimitive {
  return {
    seal(message, nonce, key) {
      const box = Buffer.allocUnsafe(message.byteLength + TAG_BYTES);
      sodium.crypto_secretbox_easy(box, message, nonce, key);
      return box;
    },
    open(box, nonce, key) {
      if (box.byteLength < TAG_BYTES) return null;
      const message = Buffer.allocUnsafe(box.byteLength - TAG_BYTES);
      return sodium.crypto_secretbox_open_easy(message, box, nonce, key) ? message : null;
    },
  };
}

const sodium = load();

/** The native primitive, or tweetnacl's where sodium-native has no binary for this platform. */
export const workerSecretbox: SecretboxPrimitive = sodium ? fromSodium(sodium) : TWEETNACL_SECRETBOX;

/** Whether `workerSecretbox` is libsodium (the startup log says so). */
export const NATIVE_SECRETBOX = sodium !== undefined;
