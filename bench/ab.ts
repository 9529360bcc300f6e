/**
 * `npm run bench:ab`: one change measured against another in one sitting. On a shared VM a
 * whole bench run drifts by 10–20% from one minute to the next, more than most single steps
 * on the hot path are worth; two runs an hour apart compare the hours, not the code. This
 * alternates the two sides round by round (A B, B A, A B, ...), so drift falls on both alike,
 * and reports each figure's paired ratio B/A: its median over the rounds, with the smallest
 * and largest, so a step is kept only when the whole range says so.
 *
 * A side is a tree and extra bench flags: A is `--base <ref>` (checked out into a temporary
 * git worktree and built there; it runs with that commit's own bench/run.ts) or this tree;
 * B is this tree. `--a-args` / `--b-args`
 * compare flags on one tree (e.g. a V8 flag for the workers).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { ROOT } from './lib/proc.js';
import { medianOf } from './lib/stats.js';

const program = new Command('bench:ab')
  .description('alternate two builds (or two sets of bench flags) round by round and report paired ratios B/A')
  .option('--base <ref>', 'side A: this git commit, built in a temporary worktree (default: this tree, like B)')
  .option('--a-args <flags>', 'extra bench flags for side A only', '')
  .option('--b-args <flags>', 'extra bench flags for side B only', '')
  .option('--bench <flags>', 'bench flags for both sides (npm run bench -- --help lists them)', '--only sread,sreadmany --concurrency 64')
  .option('--rounds <n>', 'rounds; each runs both sides once, in alternating order', '6')
  .option('--out <file>', 'also write every run and the summary as JSON')
  .option('--no-build', 'do not rebuild this tree\'s dist/ first')
  .parse();

const o = program.opts<{ base?: string; aArgs: string; bArgs: string; bench: string; rounds: string; out?: string; build: boolean }>();

/** What a run's JSON holds of each scenario (bench/run.ts writes more). */
interface Measured {
  scenario: string;
  concurrency: number;
  rps: number;
  p99: number;
  errors: number;
  cpuMicrosPerRequest?: Record<string, number>;
}

/** One bench run of one side. */
interface Run {
  round: number;
  side: string;
  /** How the bench ran (its JSON's options: the worker's command line among them). */
  options: unknown;
  /** The share of all cores other processes used meanwhile (the bench's own reading). */
  otherProcesses: number | undefined;
  scenarios: Measured[];
}

interface Side {
  name: string;
  dir: string;
  args: string[];
}

/** The figures compared, as the bench's table names them. */
const FIGURES: { label: string; of: (m: Measured) => number | undefined }[] = [
  { label: 'req/s', of: (m) => m.rps },
  { label: 'p99 ms', of: (m) => m.p99 },
  { label: 'svc us', of: (m) => m.cpuMicrosPerRequest?.worker },
  { label: 'redis us', of: (m) => m.cpuMicrosPerRequest?.['redis-server'] },
  { label: 'nats us', of: (m) => m.cpuMicrosPerRequest?.['nats-server'] },
  { label: 'load us', of: (m) => m.cpuMicrosPerRequest?.['load generator'] },
];

const words = (flags: string) => flags.split(/\s+/).filter(Boolean);

function prepareBase(ref: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'secret-svc-ab-'));
  try {
    execFileSync('git', ['worktree', 'add', '--detach', dir, ref], { cwd: ROOT, stdio: 'inherit' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const remove = () => {
    spawnSync('git', ['worktree', 'remove', '--force', dir], { cwd: ROOT, stdio: 'inherit' });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // The same installed packages; the workspace links in it are relative, so they point into the worktree.
    cpSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), { recursive: true, verbatimSymlinks: true });
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: dir, stdio: 'inherit' });
  } catch (err) {
    remove();
    throw err;
  }
  return { dir, remove };
}

function runOnce(side: Side, round: number, outFile: string): Run {
  const args = ['--import', 'tsx', 'bench/run.ts', ...words(o.bench), ...side.args, '--out', outFile];
  const r = spawnSync(process.execPath, args, { cwd: side.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.signal) throw new Error(`bench on side ${side.name} stopped by ${r.signal}`);
  if (r.status !== 0) throw new Error(`bench on side ${side.name} exited ${r.status}:\n${(r.stdout + r.stderr).slice(-3000)}`);
  const r2 = JSON.parse(readFileSync(outFile, 'utf8')) as { options: unknown; machine?: { busy?: { otherProcesses?: number } }; scenarios: Measured[] };
  return { round, side: side.name, options: r2.options, otherProcesses: r2.machine?.busy?.otherProcesses, scenarios: r2.scenarios };
}

const rowKey = (m: Measured) => `${m.scenario} @${m.concurrency}`;
const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2));

function main(): void {
  // Ctrl-C stops the bench in progress (same process group); the worktree is then removed below.
  process.on('SIGINT', () => { process.exitCode = 130; });
  const rounds = Number(o.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer');
  // Side B runs from dist/ as it is: build it first, as `npm run bench` would.
  if (o.build) execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const base = o.base ? prepareBase(o.base) : undefined;
  const a: Side = { name: 'A', dir: base?.dir ?? ROOT, args: ['--no-build', ...words(o.aArgs)] };
  const b: Side = { name: 'B', dir: ROOT, args: ['--no-build', ...words(o.bArgs)] };
  let scratch: string | undefined;
  const runs: Run[] = [];
  try {
    scratch = mkdtempSync(join(tmpdir(), 'secret-svc-ab-out-'));
    for (let round = 1; round <= rounds; round++) {
      for (const side of round % 2 === 1 ? [a, b] : [b, a]) {
        const run = runOnce(side, round, join(scratch, `${side.name}-${round}.json`));
        runs.push(run);
        const line = run.scenarios.map((m) => `${rowKey(m)} ${Math.round(m.rps)}/s`).join(', ');
        const others = run.otherProcesses === undefined ? '' : ` (other processes ${Math.round(run.otherProcesses * 100)}% of the cores)`;
        console.log(`round ${round} ${side.name}: ${line}${others}`);
      }
    }
  } finally {
    base?.remove();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
  const summary = summarise(runs, rounds);
  console.log(`\nA: ${o.base ?? 'this tree'} ${o.aArgs}\nB: this tree ${o.bArgs}\nboth: ${o.bench}; ${rounds} rounds, alternated; B/A is the median of the rounds' paired ratios (min–max)\n`);
  console.log(summary.text);
  if (o.out) writeFileSync(resolve(o.out), `${JSON.stringify({ date: new Date().toISOString(), options: o, runs, summary: summary.rows }, null, 2)}\n`);
}

function summarise(runs: Run[], rounds: number) {
  const find = (round: number, side: string, key: string) => runs.find((r) => r.round === round && r.side === side)?.scenarios.find((m) => rowKey(m) === key);
  const keys = [...new Set(runs.flatMap((r) => r.scenarios.map(rowKey)))];
  const rows: { scenario: string; figure: string; a: number; b: number; ratio: number; min: number; max: number }[] = [];
  for (const key of keys) {
    for (const { label, of } of FIGURES) {
      const pairs: [number, number][] = [];
      for (let round = 1; round <= rounds; round++) {
        const va = of(find(round, 'A', key) ?? ({} as Measured));
        const vb = of(find(round, 'B', key) ?? ({} as Measured));
        // A figure a run could not measure (no request finished) pairs with nothing.
        if (va !== undefined && vb !== undefined && Number.isFinite(va) && Number.isFinite(vb) && va > 0) pairs.push([va, vb]);
      }
      if (pairs.length === 0) continue;
      const ratios = pairs.map(([x, y]) => y / x);
      rows.push({
        scenario: key, figure: label,
        a: medianOf(pairs.map(([x]) => x)), b: medianOf(pairs.map(([, y]) => y)),
        ratio: medianOf(ratios), min: Math.min(...ratios), max: Math.max(...ratios),
      });
    }
  }
  const width = Math.max(8, ...rows.map((r) => r.scenario.length));
  const head = `${'scenario'.padEnd(width)}  ${'figure'.padEnd(8)}  ${'A'.padStart(8)}  ${'B'.padStart(8)}  B/A (min–max)`;
  const lines = rows.map((r) => `${r.scenario.padEnd(width)}  ${r.figure.padEnd(8)}  ${fmt(r.a).padStart(8)}  ${fmt(r.b).padStart(8)}  ${r.ratio.toFixed(3)} (${r.min.toFixed(3)}–${r.max.toFixed(3)})`);
  return { rows, text: [head, '-'.repeat(head.length), ...lines].join('\n') };
}

try {
  main();
} catch (err) {
  console.error(`bench:ab: ${(err as Error).message}`);
  process.exitCode ||= 1;
}
