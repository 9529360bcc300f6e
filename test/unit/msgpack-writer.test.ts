import { Encoder } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { encodeBody, UnsupportedValue, writeMsgpack } from '@secret-svc/protocol/internal';

// The reference: the encoder every decoder of ours was written against, as the worker configured it.
const reference = new Encoder({ ignoreUndefined: true });
/** encodeBody's bytes (the writer's, or the reference's where the writer declines) against the reference's; the first difference when not. */
function same(value: unknown, write: (v: unknown) => Uint8Array = (v) => encodeBody(v, 'msgpack')): void {
  const ours = Buffer.from(write(value));
  const theirs = Buffer.from(reference.encode(value));
  let at = 0;
  while (at < ours.length && ours[at] === theirs[at]) at++;
  const where = at === ours.length && ours.length === theirs.length ? 'none' : `at byte ${at}: ${ours.subarray(at, at + 8).toString('hex')} vs ${theirs.subarray(at, at + 8).toString('hex')}`;
  expect(where).toBe('none');
}

/** A small deterministic generator (no dependency): every branch of the writer, in many sizes. */
function* values(seed: number, count: number): Generator<unknown> {
  let x = seed;
  // 32-bit LCG in integers (Math.imul keeps it exact).
  const step = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  const next = () => step() / 2 ** 32;
  const text = () => {
    const alphabet = ['a', 'Z', '0', '/', '-', 'é', '€', '😀', '\u0000', '\u007f', '\u0080'];
    const n = [0, 1, 31, 32, 33, 63, 64, 255, 256, 70_000][Math.floor(next() * (next() < 0.02 ? 10 : 9))]!;
    let s = '';
    const pick = next() < 0.6 ? 1 : alphabet.length; // mostly ASCII, as replies are
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(next() * (pick === 1 ? 5 : pick))];
    return s;
  };
  const number = () => [0, -0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, -1, -32, -33, -128, -129,
    -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, Number.MIN_SAFE_INTEGER, 1.5, -0.25, 1e300, Number.MAX_SAFE_INTEGER + 2][Math.floor(next() * 26)]!;
  const value = (depth: number): unknown => {
    const r = next();
    if (depth > 2 || r < 0.3) return [text(), number(), true, false, null][Math.floor(next() * 5)];
    if (r < 0.5) return Array.from({ length: [0, 1, 15, 16, 17][Math.floor(next() * 5)]! }, () => value(depth + 1));
    if (r < 0.6) return Buffer.from(text());
    const o: Record<string, unknown> = {};
    const n = [0, 1, 15, 16, 17][Math.floor(next() * 5)]!;
    for (let i = 0; i < n; i++) o[text().slice(0, 40) || `k${i}`] = next() < 0.1 ? undefined : value(depth + 1);
    return o;
  };
  for (let i = 0; i < count; i++) yield value(0);
}

describe('MessagePack writer (replies)', () => {
  it('gives the bytes the reference encoder gives, for 1,000 generated values', () => {
    for (const v of values(7, 1000)) same(v);
  });

  it('writes a read reply as the reference does', () => {
    const secret = (i: number) => ({
      key: `team/s-${i}`, readers: ['team'], writers: ['team', 'ops'], deleters: [], version: i, createdAt: '2026-12-04T13:55:12.123Z',
      updatedAt: '2026-12-04T13:55:12.123Z', createdBy: 'team', updatedBy: 'ops', value: i % 2 ? 'é€😀 value' : 'x'.repeat(40_000),
    });
    same(secret(1), writeMsgpack);
    same({ secrets: Array.from({ length: 20 }, (_, i) => secret(i)), missing: ['team/none'], denied: [] }, writeMsgpack);
  });

  it('refuses what it does not know, and encodeBody then uses the reference', () => {
    for (const v of [new Map([[1, 2]]), new Date(0), 10n, () => 1, Symbol('s'), { at: new Date(0) }, 'a\ud800b'.repeat(30)]) {
      expect(() => writeMsgpack(v)).toThrow(UnsupportedValue);
    }
    expect(Buffer.from(encodeBody({ at: new Date(0) }, 'msgpack'))).toEqual(Buffer.from(reference.encode({ at: new Date(0) })));
  });

  it('gives each caller its own bytes (the scratch buffer is reused)', () => {
    const a = writeMsgpack({ a: 'first' });
    writeMsgpack({ b: 'second, longer, overwriting the scratch' });
    same({ a: 'first' }, () => a);
  });

  it('writes right after a reply larger than the scratch it keeps, and after a refused value', () => {
    same({ value: 'v'.repeat(3 * 1024 * 1024), bytes: new Uint8Array(2 * 1024 * 1024).fill(7) });
    same({ value: 'small after large' });
    expect(() => writeMsgpack({ first: 'x'.repeat(100), then: new Date(0) })).toThrow(UnsupportedValue);
    same({ value: 'after a refused one' });
  });
});
