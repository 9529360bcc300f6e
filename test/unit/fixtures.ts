/** The protocol's test vectors (docs/protocol.md), from the copy in protocol/vectors/. */
import { readFileSync } from 'node:fs';
import type { PrivateJwk } from '@secret-svc/protocol';

export interface Vectors {
  issuerKey: PrivateJwk;
  callerKey: PrivateJwk;
  credential: {
    text: string;
    header: Record<string, unknown>;
    claims: Record<string, unknown>;
    signingInput: string;
  };
  request: Record<string, unknown>;
  json: { payload: string; signedBytesHex: string; sig: string; envelope: string };
  msgpack: { payloadHex: string; signedBytesHex: string; sigHex: string; envelopeHex: string };
  negative: { wrongSigner: string; credentialAlgNone: string };
}

export const VECTORS_DIR = new URL('../../protocol/vectors/', import.meta.url);
const VECTORS_URL = new URL('v1.json', VECTORS_DIR);

export function loadVectors(): Vectors {
  return JSON.parse(readFileSync(VECTORS_URL, 'utf8')) as Vectors;
}

/** A copy of `bytes` with one byte XORed, so the result always differs. */
export function flipByte(bytes: Uint8Array, index: number, mask = 0x01): Buffer {
  const copy = Buffer.from(bytes);
  copy[index] = copy[index]! ^ mask;
  return copy;
}

/** The error a call throws (fails the test when it does not throw). */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}
