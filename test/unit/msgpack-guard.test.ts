import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { checkMsgpack } from '@secret-svc/protocol/internal';
import { AmbiguousBodyError, decodeMsgpack, parseEnvelope, quoteInput, UndecodableBodyError } from '@secret-svc/protocol/internal';

const str = (text: string) => [0xa0 | text.length, ...Buffer.from(text)];
const str8 = (text: string) => [0xd9, text.length, ...Buffer.from(text)];

describe('MessagePack guard', () => {
  it('accepts what the client encodes: maps, lists, bins, strings, numbers', () => {
    const request = { op: 'create', aud: 'secret-svc', ts: 1764000000000, nonce: 'A'.repeat(22), key: 'a/b', value: 'é€😀', readers: ['a', 'b'], n: -3, f: 1.5, z: null, t: true };
    expect(checkMsgpack(encode(request), 4)).toBeNull();
    expect(checkMsgpack(encode({ cred: 'x', payload: encode(request), sig: new Uint8Array(64) }), 4)).toBeNull();
    expect(decodeMsgpack(encode(request))).toEqual(request);
  });

  it.each([
    ['invalid UTF-8 in a string', Uint8Array.from([0xa4, 0x61, 0xff, 0xfe, 0x62]), 'UTF-8'],
    ['invalid UTF-8 in a map key', Uint8Array.from([0x81, 0xa2, 0xc3, 0x28, 0x01]), 'UTF-8'],
    ['nesting deeper than allowed', encode([[[[[1]]]]]), 'deeply'],
    ['an array declaring 2^32-1 items', Uint8Array.from([0xdd, 0xff, 0xff, 0xff, 0xff]), 'truncated'],
    ['a str32 declaring 4 GB', Uint8Array.from([0xdb, 0xff, 0xff, 0xff, 0xff, 0x61]), 'truncated'],
    ['a map declaring more pairs than bytes', Uint8Array.from([0xdf, 0x00, 0x01, 0x00, 0x00]), 'truncated'],
    ['extension types', Uint8Array.from([0xd4, 0x01, 0x02]), 'unsupported'],
    ['the never-used byte 0xc1', Uint8Array.from([0xc1]), 'unsupported'],
    ['trailing bytes', Uint8Array.from([0x01, 0x02]), 'trailing'],
    ['nothing at all', new Uint8Array(0), 'truncated'],
  ])('refuses %s', (_label, bytes, reason) => {
    expect(checkMsgpack(bytes, 4)).toContain(reason);
    expect(() => decodeMsgpack(bytes)).toThrow();
  });
});

describe('MessagePack duplicate map keys', () => {
  it.each<[string, number[]]>([
    ['the same key twice', [0x82, ...str('admin'), 0xc2, ...str('admin'), 0xc3]],
    ['one key as fixstr and as str8', [0x82, ...str('admin'), 0xc2, ...str8('admin'), 0xc3]],
    ['an integer key and its string', [0x82, 0x01, 0xc2, ...str('1'), 0xc3]],
    ['a duplicate in a nested map', [0x81, ...str('a'), 0x91, 0x82, ...str('b'), 0x01, ...str('b'), 0x02]],
  ])('refuses %s', (_label, bytes) => {
    expect(checkMsgpack(Uint8Array.from(bytes), 4)).toBeNull(); // well formed …
    expect(() => decodeMsgpack(Uint8Array.from(bytes))).toThrow(AmbiguousBodyError); // … but ambiguous
  });

  it('accepts one key in sibling maps', () => {
    expect(decodeMsgpack(encode([{ a: 1 }, { a: 2 }]))).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('an envelope with a key twice is 400, and not "undecodable"', () => {
    const bytes = Uint8Array.from([0x82, ...str('cred'), ...str('x'), ...str('cred'), ...str('y')]);
    const thrown = (() => { try { parseEnvelope(bytes, 'msgpack'); } catch (err) { return err; } return undefined; })();
    expect(thrown).toMatchObject({ status: 400 });
    expect(thrown).not.toBeInstanceOf(UndecodableBodyError);
  });
});

describe('quoteInput', () => {
  it('gives one line of printable ASCII whatever the caller sent', () => {
    for (const text of ['a\r\nb', 'ünï', '\u0000\u007f', 'x'.repeat(200), '"quoted"', '😀']) {
      const quoted = quoteInput(text);
      expect(quoted).toMatch(/^"[\x20-\x7e]*"$/);
      expect(JSON.parse(quoted)).toBe(text.slice(0, 64));
    }
  });
});
