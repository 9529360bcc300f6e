/** The pieces of the CLI's watching commands that need no service: debounce, scope, lines, atomic files. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WatchBatch } from '@secret-svc/client';
import { writeFileAtomic } from '../../src/cli/lib/atomic-file.js';
import { Debouncer } from '../../src/cli/watch/debounce.js';
import { watchScope } from '../../src/cli/watch/feed.js';
import { batchLines } from '../../src/cli/watch/lines.js';

describe('Debouncer', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('runs once, 1 s after the last of a burst of pokes', async () => {
    let runs = 0;
    const d = new Debouncer(1000, async () => { runs++; });
    for (let i = 0; i < 5; i++) { d.poke(); await vi.advanceTimersByTimeAsync(900); }
    expect(runs).toBe(0);
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(runs).toBe(1);
  });

  it('never runs twice at once: a poke during a run makes exactly one more run after it', async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    const d = new Debouncer(10, async () => {
      running++; runs++; most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 500));
      running--;
    });
    d.poke();
    await vi.advanceTimersByTimeAsync(20); // first run going
    d.poke(); await vi.advanceTimersByTimeAsync(20);
    d.poke(); await vi.advanceTimersByTimeAsync(20);
    await vi.advanceTimersByTimeAsync(2000);
    expect([runs, most]).toEqual([2, 1]);
  });

  it('close() drops a pending run', async () => {
    let runs = 0;
    const d = new Debouncer(1000, async () => { runs++; });
    d.poke();
    await d.close();
    d.poke();
    await vi.advanceTimersByTimeAsync(5000);
    expect(runs).toBe(0);
  });
});

const batch = (...keys: string[]): WatchBatch => ({ rev: 9, reset: false, changes: keys.map((key, i) => ({ key, op: 'update', version: 2, rev: 7 + i, at: '2026-01-01T00:00:00.000Z' })) });

describe('watchScope', () => {
  it.each([
    ['a prefix', 'app/', [], { prefix: 'app/' }, ['app/X'], ['apps/X', 'other/Y']],
    ['keys', undefined, ['a/X', 'b/Y'], { keys: ['a/X', 'b/Y'] }, ['a/X', 'b/Y'], ['a/Z']],
    ['keys inside the prefix', 'app/', ['app/X'], { prefix: 'app/' }, ['app/X', 'app/NEW'], ['other/X']],
    ['keys outside the prefix', 'app/', ['db/URL'], { prefix: '' }, ['app/NEW', 'db/URL'], ['db/OTHER']],
    ['more keys than one watch takes', undefined, Array.from({ length: 101 }, (_, i) => `k/${i}`), { prefix: '' }, ['k/100'], ['k/101']],
  ] as const)('%s', (_name, prefix, keys, selector, concerned, ignored) => {
    const scope = watchScope(prefix, keys);
    expect(scope.selector).toEqual(selector);
    for (const key of concerned) expect(scope.concerns(batch(key)), key).toBe(true);
    for (const key of ignored) expect(scope.concerns(batch(key)), key).toBe(false);
    expect(scope.concerns({ rev: 9, reset: true, changes: [] })).toBe(true);
  });
});

describe('batchLines', () => {
  const now = new Date('2026-02-02T00:00:00.000Z');
  it('prints time, op, key, version and revision; delete has no version; a reset says what to do', () => {
    const b: WatchBatch = { rev: 8, reset: false, changes: [
      { key: 'a/X', op: 'update', version: 3, rev: 7, at: '2026-01-01T00:00:00.000Z' },
      { key: 'a/Y', op: 'delete', rev: 8, at: '2026-01-01T00:00:01.000Z' },
    ] };
    expect(batchLines(b, false, now)).toBe('2026-01-01T00:00:00.000Z update a/X v3 rev 7\n2026-01-01T00:00:01.000Z delete a/Y rev 8\n');
    expect(batchLines(b, true, now).split('\n').filter(Boolean).map((l) => JSON.parse(l))).toEqual(b.changes);
    const reset: WatchBatch = { rev: 50, reset: true, changes: [] };
    expect(batchLines(reset, false, now)).toBe('2026-02-02T00:00:00.000Z reset rev 50 (changes were missed: re-read what you hold)\n');
    expect(JSON.parse(batchLines(reset, true, now))).toEqual({ at: '2026-02-02T00:00:00.000Z', reset: true, rev: 50 });
  });
});

describe('writeFileAtomic', () => {
  const dir = mkdtempSync(join(tmpdir(), 'secret-svc-atomic-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes mode 0600, replaces only when asked, and leaves no temporary file', () => {
    const file = join(dir, 'out');
    writeFileAtomic(file, 'one', false);
    expect([readFileSync(file, 'utf8'), statSync(file).mode & 0o777]).toEqual(['one', 0o600]);
    expect(() => writeFileAtomic(file, 'two', false)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(readFileSync(file, 'utf8')).toBe('one');
    writeFileSync(join(dir, 'other'), 'x', { mode: 0o644 });
    writeFileAtomic(join(dir, 'other'), 'three', true);
    expect([readFileSync(join(dir, 'other'), 'utf8'), statSync(join(dir, 'other')).mode & 0o777]).toEqual(['three', 0o600]);
    expect(readdirSync(dir).sort()).toEqual(['other', 'out']);
  });
});
