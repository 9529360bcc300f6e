/**
 * Hand-built wire values for hostile input: a small value tree encoded to JSON text or
 * MessagePack bytes by hand, so maps may hold `__proto__`/`constructor` keys, duplicate keys,
 * raw (invalid UTF-8) strings and declared lengths that lie.
 */
import { Encoder } from '@msgpack/msgpack';

/** A map keeps its entries as given (order, duplicates, any key). `raw` is a str of arbitrary bytes. */
export type Wire =
  | null | boolean | number | string
  | { bin: Uint8Array }
  | { raw: Uint8Array }
  | Wire[]
  | { map: [string, Wire][] };

const encoder = new Encoder();
const te = new TextEncoder();

function lengthHeader(n: number, small: number | undefined, smallMax: number, c8: number | undefined, c16: number, c32: number): Buffer {
  if (small !== undefined && n <= smallMax) return Buffer.from([small | n]);
  if (c8 !== undefined && n <= 0xff) return Buffer.from([c8, n]);
  if (n <= 0xffff) return Buffer.from([c16, n >> 8, n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = c32;
  b.writeUInt32BE(n, 1);
  return b;
}

export function mpStrBytes(bytes: Uint8Array): Buffer {
  return Buffer.concat([lengthHeader(bytes.length, 0xa0, 31, 0xd9, 0xda, 0xdb), bytes]);
}

export function mpBin(bytes: Uint8Array): Buffer {
  return Buffer.concat([lengthHeader(bytes.length, undefined, 0, 0xc4, 0xc5, 0xc6), bytes]);
}

export function mpMapHeader(n: number): Buffer {
  return lengthHeader(n, 0x80, 15, undefined, 0xde, 0xdf);
}

export function toMsgpack(v: Wire): Buffer {
  if (v === null || typeof v === 'boolean' || typeof v === 'number') return Buffer.from(encoder.encode(v));
  if (typeof v === 'string') return mpStrBytes(te.encode(v));
  if (Array.isArray(v)) return Buffer.concat([lengthHeader(v.length, 0x90, 15, undefined, 0xdc, 0xdd), ...v.map(toMsgpack)]);
  if ('bin' in v) return mpBin(v.bin);
  if ('raw' in v) return mpStrBytes(v.raw);
  return Buffer.concat([mpMapHeader(v.map.length), ...v.map.flatMap(([k, x]) => [mpStrBytes(te.encode(k)), toMsgpack(x)])]);
}

/** JSON text; bins become base64 strings and raw strings their (lossy) UTF-8 reading. */
export function toJsonText(v: Wire): string {
  if (v === null || typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(toJsonText).join(',')}]`;
  if ('bin' in v) return JSON.stringify(Buffer.from(v.bin).toString('base64'));
  if ('raw' in v) return JSON.stringify(Buffer.from(v.raw).toString('utf8'));
  return `{${v.map.map(([k, x]) => `${JSON.stringify(k)}:${toJsonText(x)}`).join(',')}}`;
}

/** A request object as a map, in field order. */
export function mapOf(obj: Record<string, unknown>): { map: [string, Wire][] } {
  return { map: Object.entries(obj).map(([k, x]) => [k, x as Wire]) };
}
