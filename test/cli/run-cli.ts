/**
 * The CLI two ways: in this process through its entry function `runCli(argv)` (cheap: most tests),
 * and as a real child process (`src/cli/main.ts` through tsx) for what needs one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { runCli } from '../../src/cli/program.js';
import { ROOT } from '../helpers/process.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `secret-svc ARGS` in this process with its own environment and streams. */
export async function cliIn(
  args: string[], opts: { env?: Record<string, string>; input?: string | Uint8Array } = {},
): Promise<CliResult & { stdoutBytes: Buffer }> {
  const chunks: Buffer[] = [];
  let stderr = '';
  const input = opts.input ?? '';
  const stdin = {
    isTTY: false,
    async *[Symbol.asyncIterator]() { if (input.length) yield Buffer.from(input); },
  };
  const code = await runCli(['node', 'secret-svc', ...args], {
    env: baseEnv(opts.env),
    stdin,
    stdout: { write: (c: string | Uint8Array) => chunks.push(Buffer.from(c)) },
    stderr: { write: (c: string | Uint8Array) => { stderr += Buffer.from(c).toString(); } },
  });
  const stdoutBytes = Buffer.concat(chunks);
  return { code, stdout: stdoutBytes.toString(), stdoutBytes, stderr };
}

/** A clean environment: nothing from the test runner's NATS_URL or SECRET_SVC_* leaks in. */
export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...extra };
}

export function cliArgs(args: string[]): string[] {
  return ['--import', 'tsx', 'src/cli/main.ts', ...args];
}

export function cli(args: string[], opts: { env?: Record<string, string>; input?: string; cwd?: string } = {}): Promise<CliResult> {
  return run_(process.execPath, cliArgs(args), { cwd: opts.cwd ?? ROOT, env: baseEnv(opts.env), input: opts.input });
}

/** Runs any program to its end (asynchronously: an in-process worker must keep answering meanwhile). */
export function runProgram(file: string, args: string[], opts: { cwd?: string; env: Record<string, string>; input?: string }): Promise<CliResult> {
  return run_(file, args, { cwd: opts.cwd ?? ROOT, env: opts.env, input: opts.input });
}

function run_(file: string, args: string[], opts: { cwd: string; env: Record<string, string>; input?: string }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(file, args, { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    proc.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
    proc.stdin.end(opts.input ?? '');
  });
}

/** A long-running CLI process (dev) whose output is collected as it comes. */
export interface LiveCli {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
  /** Resolves once stdout matches `re` (rejects if the process exits first or after `timeoutMs`). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startCli(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): LiveCli {
  const proc = spawn(process.execPath, cliArgs(args), { cwd: opts.cwd ?? ROOT, env: baseEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitFor(re, timeoutMs = 40_000) {
      const deadline = Date.now() + timeoutMs;
      while (!re.test(out)) {
        if (proc.exitCode !== null) throw new Error(`exited with ${proc.exitCode}\nstdout:\n${out}\nstderr:\n${err}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}\nstdout:\n${out}\nstderr:\n${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}
