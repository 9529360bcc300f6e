/**
 * `npm run bench:ab` (bench/ab.ts) alternates two sides round by round and pairs their figures:
 * here two short rounds of a session read, side B with a worker flag; and a bad base commit.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { ROOT } from '../helpers/process.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'bench-ab-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface AbOut {
  runs: { round: number; side: string; options: { worker: string }; scenarios: { scenario: string; concurrency: number; rps: number }[] }[];
  summary: { scenario: string; figure: string; a: number; b: number; ratio: number; min: number; max: number; pairs: number }[];
}

it('runs both sides in alternating order and reports each figure as paired ratios B/A', async () => {
  const out = join(dir, 'ab.json');
  const bench = '--only sread --concurrency 1 --duration 0.3 --warmup 0.1 --prewarm 0 --secrets 200 --visible 100';
  const { stdout } = await run(process.execPath, [
    '--import', 'tsx', 'bench/ab.ts', '--no-build', '--rounds', '2', '--bench', bench,
    '--b-args', '--worker-node-args=--single-threaded-gc', '--out', out,
  ], { cwd: ROOT, timeout: 240_000 });
  const result = JSON.parse(readFileSync(out, 'utf8')) as AbOut;
  // A B, then B A: drift falls on both sides alike.
  expect(result.runs.map((r) => `${r.round}${r.side}`)).toEqual(['1A', '1B', '2B', '2A']);
  // Only side B's workers got the flag.
  for (const r of result.runs) expect(r.options.worker.includes('--single-threaded-gc')).toBe(r.side === 'B');
  // Each ratio is one round's B over the same round's A; the row is their median and range.
  const rps = (round: number, side: string) => result.runs.find((r) => r.round === round && r.side === side)!
    .scenarios.find((m) => m.scenario === 'session read 1 key' && m.concurrency === 1)!.rps;
  const ratios = [1, 2].map((round) => rps(round, 'B') / rps(round, 'A'));
  const reads = result.summary.find((r) => r.scenario === 'session read 1 key @1' && r.figure === 'req/s')!;
  expect(reads.pairs).toBe(2);
  expect(reads.ratio).toBeCloseTo((ratios[0]! + ratios[1]!) / 2, 10);
  expect(reads.min).toBeCloseTo(Math.min(...ratios), 10);
  expect(reads.max).toBeCloseTo(Math.max(...ratios), 10);
  expect(reads.a).toBeCloseTo((rps(1, 'A') + rps(2, 'A')) / 2, 6);
  expect(reads.b).toBeCloseTo((rps(1, 'B') + rps(2, 'B')) / 2, 6);
  expect(stdout).toMatch(/session read 1 key @1\s+req\/s\s+[\d.]+\s+[\d.]+\s+\d\.\d{3} \(\d\.\d{3}–\d\.\d{3}\)\s+2/);
}, 300_000);

it('refuses a base commit that does not exist, leaving no worktree and no directory behind', async () => {
  const temps = () => readdirSync(tmpdir()).filter((f) => f.startsWith('secret-svc-ab-')).sort();
  const worktrees = async () => (await run('git', ['worktree', 'list'], { cwd: ROOT })).stdout;
  const before = temps();
  const worktreesBefore = await worktrees();
  const failed = await run(process.execPath, ['--import', 'tsx', 'bench/ab.ts', '--no-build', '--base', 'no-such-commit-xyz', '--rounds', '1'], { cwd: ROOT, timeout: 60_000 })
    .then(() => undefined, (err: { code: number; stderr: string }) => err);
  expect(failed?.code).toBe(1);
  expect(failed?.stderr).toMatch(/^bench:ab: /m);
  expect(temps()).toEqual(before);
  expect(await worktrees()).toBe(worktreesBefore);
}, 90_000);
