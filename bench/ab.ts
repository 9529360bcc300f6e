/**
 * `npm run bench:ab`: two sides measured in one sitting, alternated round by round (A B, B A,
 * A B, ...) so that the machine's drift falls on both; each figure is reported as the median
 * of the rounds' paired ratios B/A, with their range (bench/README.md says how to read it).
 *
 * A side is a tree and extra bench flags. A is `--base <ref>`, checked out into a temporary
 * git worktree, given this tree's node_modules and built there (it runs with that commit's
 * own bench/run.ts, which must take `--no-build` and `--out`), or this tree; B is this tree.
 * `--a-args` / `--b-args` compare flags on one tree (a V8 flag for the workers, say).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { ROOT } from './lib/proc.js';
import { cpuColumns, type Row } from './lib/report.js';
import { medianOf } from './lib/stats.js';

const program = new Command('bench:ab')
  .description('alternate two builds (or two sets of bench flags) round by round and report paired ratios B/A')
  .option('--base <ref>', 'side A: this git commit, built in a temporary worktree (default: this tree, like B)')
  .option('--a-args <flags>', 'extra bench flags for side A only', '')
  .option('--b-args <flags>', 'extra bench flags for side B only', '')
  .option('--bench <flags>', 'bench flags for both sides (npm run bench -- --help lists them)', '--only sread,sreadmany --concurrency 64')
  .option('--rounds <n>', 'rounds; each runs both sides once, in alternating order', '7')
  .option('--out <file>', 'also write every run and the summary as JSON (the runs so far when one fails)')
  .option('--no-build', 'do not run `npm run build` in this tree first')
  .parse();

const o = program.opts<{ base?: string; aArgs: string; bArgs: string; bench: string; rounds: string; out?: string; build: boolean }>();

/** One bench run of one side. */
interface Run {
  round: number;
  side: string;
  /** How the bench ran (its JSON's options: the worker's command line among them). */
  options: unknown;
  /** The share of all cores other processes used meanwhile (the bench's own reading). */
  otherProcesses: number | undefined;
  scenarios: Row[];
}

interface Side {
  name: string;
  dir: string;
  args: string[];
}

/** One row of the summary: a scenario's figure on both sides over the rounds that measured it on both. */
interface Compared {
  scenario: string;
  figure: string;
  /** Each side's own median (so b / a need not equal `ratio`, the median of the paired ratios). */
  a: number;
  b: number;
  ratio: number;
  min: number;
  max: number;
  /** Rounds that measured it on both sides. */
  pairs: number;
  /** Replies with an error (a 503 from the in-flight bounds, say) in those runs, A and B. */
  errors: [number, number];
}

/** The figures compared, as the bench's table names them. */
const FIGURES: { label: string; of: (m: Row) => number | undefined }[] = [
  { label: 'req/s', of: (m) => m.rps },
  { label: 'p99 ms', of: (m) => m.p99 },
  { label: 'svc us', of: (m) => cpuColumns(m)?.svc },
  { label: 'redis us', of: (m) => cpuColumns(m)?.redis },
  { label: 'nats us', of: (m) => cpuColumns(m)?.nats },
  { label: 'load us', of: (m) => cpuColumns(m)?.load },
];

const words = (flags: string) => flags.split(/\s+/).filter(Boolean);
const rowKey = (m: Row) => `${m.scenario} @${m.concurrency}`;
const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2));

/** The bench in progress: its whole process group (servers, workers, load generators) is stopped with it. */
let running: number | undefined;
let stopping: NodeJS.Signals | undefined;

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    stopping = signal;
    if (running !== undefined) {
      try {
        process.kill(-running, signal);
      } catch {
        // already gone
      }
    }
  });
}

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

/** One bench run in its own process group, so that a signal to this process reaches all of it. */
async function runOnce(side: Side, round: number, outFile: string): Promise<Run> {
  if (stopping) throw new Error(`stopped by ${stopping}`);
  const args = ['--import', 'tsx', 'bench/run.ts', ...words(o.bench), ...side.args, '--out', outFile];
  const child = spawn(process.execPath, args, { cwd: side.dir, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  running = child.pid;
  let output = '';
  const keep = (d: Buffer) => { output = (output + d.toString()).slice(-3000); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) => child.once('close', (c, s) => done([c, s])));
  running = undefined;
  if (signal || stopping) throw new Error(`bench on side ${side.name} stopped by ${signal ?? stopping}`);
  if (code !== 0) throw new Error(`bench on side ${side.name} exited ${code}:\n${output}`);
  const result = JSON.parse(readFileSync(outFile, 'utf8')) as { options: unknown; machine?: { busy?: { otherProcesses?: number } }; scenarios: Row[] };
  return { round, side: side.name, options: result.options, otherProcesses: result.machine?.busy?.otherProcesses, scenarios: result.scenarios };
}

async function main(): Promise<void> {
  const rounds = Number(o.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer');
  // Side B runs from this tree's dist/ as it is.
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
        const run = await runOnce(side, round, join(scratch, `${side.name}-${round}.json`));
        runs.push(run);
        const line = run.scenarios.map((m) => `${rowKey(m)} ${Math.round(m.rps)}/s`).join(', ');
        const others = run.otherProcesses === undefined ? '' : ` (other processes ${Math.round(run.otherProcesses * 100)}% of the cores)`;
        console.log(`round ${round} ${side.name}: ${line}${others}`);
      }
    }
  } finally {
    base?.remove();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    // What was measured stays, even when a later run failed.
    if (o.out) writeFileSync(resolve(o.out), `${JSON.stringify({ date: new Date().toISOString(), options: o, runs, summary: summarise(runs, rounds) }, null, 2)}\n`);
  }
  console.log(`\nA: ${o.base ?? 'this tree'} ${o.aArgs}\nB: this tree ${o.bArgs}\nboth: ${o.bench}; ${rounds} rounds, alternated`);
  console.log('A and B: each side\'s median; B/A: the median of the rounds\' paired ratios (min–max); n: rounds measured on both sides\n');
  console.log(table(summarise(runs, rounds)));
}

function summarise(runs: Run[], rounds: number): Compared[] {
  const find = (round: number, side: string, key: string) => runs.find((r) => r.round === round && r.side === side)?.scenarios.find((m) => rowKey(m) === key);
  const keys = [...new Set(runs.flatMap((r) => r.scenarios.map(rowKey)))];
  const rows: Compared[] = [];
  for (const key of keys) {
    for (const { label, of } of FIGURES) {
      const pairs: [number, number][] = [];
      const errors: [number, number] = [0, 0];
      for (let round = 1; round <= rounds; round++) {
        const ma = find(round, 'A', key);
        const mb = find(round, 'B', key);
        const va = ma && of(ma);
        const vb = mb && of(mb);
        // A figure a run could not measure (no request finished) pairs with nothing.
        if (va === undefined || vb === undefined || !Number.isFinite(va) || !Number.isFinite(vb) || va <= 0) continue;
        pairs.push([va, vb]);
        errors[0] += ma!.errors;
        errors[1] += mb!.errors;
      }
      if (pairs.length === 0) continue;
      const ratios = pairs.map(([x, y]) => y / x);
      rows.push({
        scenario: key, figure: label,
        a: medianOf(pairs.map(([x]) => x)), b: medianOf(pairs.map(([, y]) => y)),
        ratio: medianOf(ratios), min: Math.min(...ratios), max: Math.max(...ratios), pairs: pairs.length, errors,
      });
    }
  }
  return rows;
}

function table(rows: Compared[]): string {
  const width = Math.max(8, ...rows.map((r) => r.scenario.length));
  const head = `${'scenario'.padEnd(width)}  ${'figure'.padEnd(8)}  ${'A'.padStart(8)}  ${'B'.padStart(8)}  B/A (min–max)          n  note`;
  const lines = rows.map((r) => {
    const note = r.errors[0] + r.errors[1] > 0 ? `replies with error: A ${r.errors[0]}, B ${r.errors[1]}` : '';
    const ratio = `${r.ratio.toFixed(3)} (${r.min.toFixed(3)}–${r.max.toFixed(3)})`;
    return `${r.scenario.padEnd(width)}  ${r.figure.padEnd(8)}  ${fmt(r.a).padStart(8)}  ${fmt(r.b).padStart(8)}  ${ratio.padEnd(21)}  ${String(r.pairs).padStart(2)}  ${note}`;
  });
  return [head, '-'.repeat(head.length), ...lines].join('\n');
}

main().catch((err: unknown) => {
  console.error(`bench:ab: ${(err as Error).message}`);
  process.exitCode = stopping ? 130 : 1;
});
