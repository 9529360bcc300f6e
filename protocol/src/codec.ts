/** Body encodings (docs/protocol.md §3): JSON when the first non-blank byte is "{", else MessagePack. */
import { Decoder, Encoder } from '@msgpack/msgpack';
import { checkJsonText } from './json-guard.js';
import { countMapKeys, scanMsgpack } from './msgpack-guard.js';
import { UnsupportedValue, writeMsgpack } from './msgpack-writer.js';

export type Encoding = 'json' | 'msgpack';

const OPEN_BRACE = 0x7b;
const BLANKS = new Set([0x20, 0x09, 0x0a, 0x0d]);

export function sniffEncoding(body: Uint8Array): Encoding {
  for (const byte of body) {
    if (!BLANKS.has(byte)) return byte === OPEN_BRACE ? 'json' : 'msgpack';
  }
  return 'msgpack';
}

// Bounds keep a hostile declared length from allocating; the body size is capped before this.
const msgpackDecoder = new Decoder({
  maxStrLength: 1 << 20,
  maxBinLength: 1 << 20,
  maxArrayLength: 10_000,
  maxMapLength: 1_000,
  maxExtLength: 0,
});
const msgpackEncoder = new Encoder({ ignoreUndefined: true });
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Envelopes are one map of scalars and requests a map of scalars and lists: 4 is ample. */
const MAX_MSGPACK_DEPTH = 4;

/**
 * Throws on malformed input (including bad UTF-8 and deep nesting), and AmbiguousBodyError
 * on a map key given twice; callers map that to their own error.
 */
export function decodeMsgpack(bytes: Uint8Array): unknown {
  const scan = scanMsgpack(bytes, MAX_MSGPACK_DEPTH);
  if (typeof scan === 'string') throw new Error(`MessagePack ${scan}`);
  const value = msgpackDecoder.decode(bytes);
  if (countMapKeys(value) !== scan.mapEntries) throw new AmbiguousBodyError('a map has a duplicate key');
  return value;
}

/**
 * A well-formed body this protocol still refuses because it could be read two ways: a
 * duplicate key, "__proto__", an escaped lone surrogate.
 */
export class AmbiguousBodyError extends Error {}

/** Throws on invalid UTF-8 or JSON, and AmbiguousBodyError on what checkJsonText refuses. */
export function decodeJson(bytes: Uint8Array): unknown {
  return parseJsonText(utf8.decode(bytes));
}

/** JSON.parse, then the checks JSON.parse does not make (see json-guard.ts). */
export function parseJsonText(text: string): unknown {
  const value: unknown = JSON.parse(text);
  const problem = checkJsonText(text);
  if (problem !== null) throw new AmbiguousBodyError(problem);
  return value;
}

export function decodeUtf8(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

export function encodeBody(value: unknown, encoding: Encoding): Uint8Array {
  if (encoding === 'json') return Buffer.from(JSON.stringify(value), 'utf8');
  try {
    return writeMsgpack(value);
  } catch (err) {
    if (!(err instanceof UnsupportedValue)) throw err;
    return msgpackEncoder.encode(value);
  }
}

export function decodeBody(bytes: Uint8Array, encoding: Encoding): unknown {
  return encoding === 'json' ? decodeJson(bytes) : decodeMsgpack(bytes);
}
