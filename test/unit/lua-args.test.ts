/** packArgs: a script's named arguments as one MessagePack map that Redis's cmsgpack reads (no bin type). */
import { decode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { packArgs } from '../../src/store/lua-args.js';

describe('packArgs', () => {
  it('names every value, text at each string length form (fixstr, str 8, 16, 32)', () => {
    const args = { short: 'x'.repeat(31), str8: 'y'.repeat(255), str16: 'z'.repeat(65_535), str32: 'w'.repeat(65_536), empty: '', utf8: 'é' };
    expect(decode(packArgs(args))).toEqual(args);
  });

  it('writes bytes as strings, byte for byte (a Lua string holds any bytes)', () => {
    const bytes = Buffer.from([0, 0xff, 0x0a, 0xc4, 0x80]);
    const packed = packArgs({ b: bytes });
    expect(packed.subarray(0, 3)).toEqual(Buffer.from([0xde, 0, 1])); // map 16, one entry
    expect(packed.subarray(3, 5)).toEqual(Buffer.from([0xa1, 0x62])); // "b"
    expect(packed.subarray(5)).toEqual(Buffer.concat([Buffer.from([0xa0 | bytes.length]), bytes])); // fixstr, never bin (0xc4)
  });
});
