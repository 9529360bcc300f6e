/** A worker as a real child process (`src/main.ts` through tsx), for signal and crash tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface WorkerProcess {
  proc: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Sends a signal and resolves with the exit code (null if killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/** Starts `npm start`'s entry point with `env`; resolves once it logs that it serves (or rejects). */
export async function spawnWorker(env: Record<string, string>, opts: { waitFor?: RegExp; timeoutMs?: number } = {}): Promise<WorkerProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    // Readiness is read from the startup log line, so the child logs at least at info.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env, LOG_LEVEL: env.LOG_LEVEL && env.LOG_LEVEL !== 'silent' ? env.LOG_LEVEL : 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const handle: WorkerProcess = {
    proc,
    output: () => out,
    exited,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
  const waitFor = opts.waitFor ?? /worker serving/;
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  while (!waitFor.test(out)) {
    if (proc.exitCode !== null) return handle; // exited early: callers inspect output()/exited
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`worker did not start in time; output:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return handle;
}
