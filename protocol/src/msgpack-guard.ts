/**
 * A walk over MessagePack bytes that builds nothing: it bounds nesting depth, checks every
 * declared length against the bytes that are really there, refuses extension types, and
 * requires every string to be valid UTF-8. The decoder itself would silently repair bad
 * UTF-8 and spend time and memory on deep nesting before any signature is checked.
 */
import { isUtf8 } from 'node:buffer';

/** Returns why the bytes are unacceptable, or null when they hold exactly one sound item. */
export function checkMsgpack(bytes: Uint8Array, maxDepth: number): string | null {
  const scan = scanMsgpack(bytes, maxDepth);
  return typeof scan === 'string' ? scan : null;
}

/**
 * As checkMsgpack, but a sound item gives the number of map entries it declares in all: a
 * decoded value holding fewer own keys had a key twice (the decoder keeps the last one).
 */
export function scanMsgpack(bytes: Uint8Array, maxDepth: number): string | { mapEntries: number } {
  let mapEntries = 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.byteLength;
  // Items still expected at each open level; the bottom level expects the single top item.
  const pending: number[] = [1];
  let pos = 0;
  while (pending.length > 0) {
    if (pending[pending.length - 1] === 0) {
      pending.pop();
      continue;
    }
    pending[pending.length - 1]!--;
    if (pos >= end) return 'truncated';
    const b = bytes[pos++]!;
    let strLen = -1;
    let skip = 0;
    let children = -1;
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) skip = 0;
    else if (b >= 0x80 && b <= 0x8f) {
      children = (b & 0x0f) * 2;
      mapEntries += b & 0x0f;
    }
    else if (b >= 0x90 && b <= 0x9f) children = b & 0x0f;
    else if (b >= 0xa0 && b <= 0xbf) strLen = b & 0x1f;
    else {
      const need = HEAD_BYTES[b];
      if (need === undefined) return 'unsupported type';
      if (pos + need > end) return 'truncated';
      switch (b) {
        case 0xc4: skip = view.getUint8(pos); break;
        case 0xc5: skip = view.getUint16(pos); break;
        case 0xc6: skip = view.getUint32(pos); break;
        case 0xd9: strLen = view.getUint8(pos); break;
        case 0xda: strLen = view.getUint16(pos); break;
        case 0xdb: strLen = view.getUint32(pos); break;
        case 0xdc: children = view.getUint16(pos); break;
        case 0xdd: children = view.getUint32(pos); break;
        case 0xde: children = view.getUint16(pos) * 2; mapEntries += children / 2; break;
        case 0xdf: children = view.getUint32(pos) * 2; mapEntries += children / 2; break;
        default: skip = 0; // fixed-size numbers: the head is the whole item
      }
      pos += need;
    }
    if (strLen >= 0) {
      if (pos + strLen > end) return 'truncated';
      if (!isUtf8(bytes.subarray(pos, pos + strLen))) return 'string is not valid UTF-8';
      pos += strLen;
    } else if (children >= 0) {
      // Every item takes at least one byte: a count beyond the rest is a lie.
      if (children > end - pos) return 'truncated';
      if (pending.length > maxDepth) return 'nested too deeply';
      pending.push(children);
    } else {
      if (pos + skip > end) return 'truncated';
      pos += skip;
    }
  }
  return pos === end ? { mapEntries } : 'trailing bytes';
}

/** The own keys of every map in a decoded value (bins are leaves). */
export function countMapKeys(value: unknown): number {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return 0;
  if (Array.isArray(value)) return value.reduce((n: number, item) => n + countMapKeys(item), 0);
  let n = 0;
  for (const key of Object.keys(value)) n += 1 + countMapKeys((value as Record<string, unknown>)[key]);
  return n;
}

/** Bytes after the type byte that hold a length or a fixed-size number. */
const HEAD_BYTES: Record<number, number> = {
  0xc4: 1, 0xc5: 2, 0xc6: 4, // bin
  0xca: 4, 0xcb: 8, // float
  0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8, // uint
  0xd0: 1, 0xd1: 2, 0xd2: 4, 0xd3: 8, // int
  0xd9: 1, 0xda: 2, 0xdb: 4, // str
  0xdc: 2, 0xdd: 4, // array
  0xde: 2, 0xdf: 4, // map
};
