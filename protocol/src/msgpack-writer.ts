/**
 * A MessagePack writer for the values replies are made of (plain objects, arrays, strings,
 * numbers, booleans, null, byte arrays), giving exactly the bytes @msgpack/msgpack's Encoder
 * gives with `ignoreUndefined` (test/unit/msgpack-writer.test.ts compares them). It writes
 * into one growing scratch buffer and knows no extensions, classes or depth option, which is
 * what made the general encoder the largest cost of a 20-key read (bench/README.md).
 * Anything else (a Map, a Date, a bigint, a string with a lone surrogate, a cycle) throws
 * UnsupportedValue: the caller then uses the general encoder.
 */

export class UnsupportedValue extends Error {}

const MAX_DEPTH = 32;

const SCRATCH_BYTES = 64 * 1024;
const MAX_KEPT_SCRATCH = 1024 * 1024;
let scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
let pos = 0;

function room(n: number): void {
  if (pos + n <= scratch.length) return;
  const grown = Buffer.allocUnsafeSlow(Math.max(scratch.length * 2, pos + n));
  scratch.copy(grown, 0, 0, pos);
  scratch = grown;
}

/** A type byte and `n` in 8, 16 or 32 bits, the first that holds it (c8 < 0: no 8-bit form). */
function sized(n: number, c8: number, c16: number, c32: number): void {
  room(5);
  if (c8 >= 0 && n < 0x100) {
    scratch[pos++] = c8;
    scratch[pos++] = n;
  } else if (n < 0x10000) {
    scratch[pos++] = c16;
    scratch.writeUInt16BE(n, pos);
    pos += 2;
  } else {
    scratch[pos++] = c32;
    scratch.writeUInt32BE(n, pos);
    pos += 4;
  }
}

/** An array's or a map's header: its count in the type byte when below `fixMax`, else sized. */
function header(n: number, fix: number, fixMax: number, c16: number, c32: number): void {
  if (n >= fixMax) return sized(n, -1, c16, c32);
  room(1);
  scratch[pos++] = fix | n;
}

/** Short strings are written by hand when they are ASCII: a native write costs more than they do. */
const SHORT = 64;

function writeString(s: string): void {
  const length = s.length;
  if (length < SHORT) {
    room(length + 2);
    const at = pos;
    pos += length < 32 ? 1 : 2;
    let i = 0;
    for (; i < length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      scratch[pos + i] = c;
    }
    if (i === length) {
      if (length < 32) scratch[at] = 0xa0 | length;
      else {
        scratch[at] = 0xd9;
        scratch[at + 1] = length;
      }
      pos += length;
      return;
    }
    pos = at;
  }
  // A lone surrogate is written differently by each UTF-8 encoder: leave it to the reference.
  if (!s.isWellFormed()) throw new UnsupportedValue('a string with a lone surrogate');
  // At most 3 bytes per UTF-16 unit, plus the largest header.
  room(length * 3 + 5);
  const n = Buffer.byteLength(s, 'utf8');
  if (n < 32) scratch[pos++] = 0xa0 | n;
  else sized(n, 0xd9, 0xda, 0xdb);
  pos += scratch.write(s, pos, 'utf8');
}

function writeNumber(v: number): void {
  room(9);
  if (!Number.isSafeInteger(v)) {
    scratch[pos++] = 0xcb;
    scratch.writeDoubleBE(v, pos);
    pos += 8;
  } else if (v >= 0) {
    if (v < 0x80) scratch[pos++] = v;
    else if (v < 0x100000000) sized(v, 0xcc, 0xcd, 0xce);
    else {
      scratch[pos++] = 0xcf;
      scratch.writeBigUInt64BE(BigInt(v), pos);
      pos += 8;
    }
  } else if (v >= -0x20) {
    scratch[pos++] = 0xe0 | (v + 0x20);
  } else if (v >= -0x80) {
    scratch[pos++] = 0xd0;
    scratch.writeInt8(v, pos);
    pos += 1;
  } else if (v >= -0x8000) {
    scratch[pos++] = 0xd1;
    scratch.writeInt16BE(v, pos);
    pos += 2;
  } else if (v >= -0x80000000) {
    scratch[pos++] = 0xd2;
    scratch.writeInt32BE(v, pos);
    pos += 4;
  } else {
    scratch[pos++] = 0xd3;
    scratch.writeBigInt64BE(BigInt(v), pos);
    pos += 8;
  }
}

function writeValue(v: unknown, depth: number): void {
  if (v === null || v === undefined) {
    room(1);
    scratch[pos++] = 0xc0;
    return;
  }
  switch (typeof v) {
    case 'string': writeString(v); return;
    case 'number': writeNumber(v); return;
    case 'boolean':
      room(1);
      scratch[pos++] = v ? 0xc3 : 0xc2;
      return;
    case 'object': break;
    default: throw new UnsupportedValue(typeof v);
  }
  if (depth > MAX_DEPTH) throw new UnsupportedValue('too deep');
  if (Array.isArray(v)) {
    header(v.length, 0x90, 16, 0xdc, 0xdd);
    for (const item of v) writeValue(item, depth + 1);
    return;
  }
  if (v instanceof Uint8Array) {
    const n = v.byteLength;
    room(n + 5);
    sized(n, 0xc4, 0xc5, 0xc6);
    scratch.set(v, pos);
    pos += n;
    return;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) throw new UnsupportedValue('not a plain object');
  const o = v as Record<string, unknown>;
  // Own keys only, as the reference: an inherited enumerable property is never written.
  const keys = Object.keys(o);
  let count = 0;
  for (const key of keys) if (o[key] !== undefined) count++;
  header(count, 0x80, 16, 0xde, 0xdf);
  for (const key of keys) {
    const item = o[key];
    if (item === undefined) continue;
    writeString(key);
    writeValue(item, depth + 1);
  }
}

/** The value's MessagePack bytes (a copy of its own), or UnsupportedValue. */
export function writeMsgpack(value: unknown): Buffer {
  pos = 0;
  try {
    writeValue(value, 1);
    const out = Buffer.allocUnsafe(pos);
    scratch.copy(out, 0, 0, pos);
    return out;
  } finally {
    // Replies carry secret values: the scratch, which lives as long as the process, keeps none.
    scratch.fill(0, 0, pos);
    // One large reply does not hold its size for good.
    if (scratch.length > MAX_KEPT_SCRATCH) scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
  }
}
