/** src/later.ts: a held watch's outcome handed on without anything awaiting it. */
import { describe, expect, it } from 'vitest';
import { Later } from '../../src/later.js';

describe('Later', () => {
  it('runs the next step when settled, once, with the first outcome', () => {
    const later = new Later<number>();
    const seen: (number | Error)[] = [];
    later.whenSettled((o) => seen.push(o));
    expect(seen).toEqual([]);
    later.settle(1);
    later.settle(2);
    later.settle(new Error('late'));
    expect(seen).toEqual([1]);
  });

  it('keeps an outcome settled before the next step is registered, and hands it over at once', () => {
    const later = new Later<string>();
    const error = new Error('revoked');
    later.settle(error);
    later.settle('ignored');
    const seen: (string | Error)[] = [];
    later.whenSettled((o) => seen.push(o));
    expect(seen).toEqual([error]);
  });

  it('takes one next step only', () => {
    const later = new Later<number>();
    later.whenSettled(() => {});
    expect(() => later.whenSettled(() => {})).toThrow('a Later takes one next step');
  });

  it('is not a thenable: awaiting or resolving with it gives the Later itself', async () => {
    const later = new Later<number>();
    expect(await Promise.resolve(later)).toBe(later);
    expect(await (async () => later)()).toBe(later);
  });
});
