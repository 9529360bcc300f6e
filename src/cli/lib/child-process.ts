/**
 * The command `run` starts: with this process's stdio, signals passed on to it, and its exit
 * status as `run`'s (128+N when killed by signal N). With `run --watch` the command can be
 * replaced by a new one (new environment): the old one is stopped with a signal, then SIGKILL
 * after a grace period; only a child that ends by itself ends the run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { CliError } from './exit-codes.js';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

export interface StopOptions {
  signal: NodeJS.Signals;
  graceMs: number;
}

export class ChildSupervisor {
  /** The status of the child that ended by itself; rejects when the command cannot be started. */
  readonly exited: Promise<number>;
  private child: ChildProcess | undefined;
  /** Signals for a child not started yet (or being replaced): delivered when it starts. */
  private readonly pending: NodeJS.Signals[] = [];
  /** The current child's end is ours (a restart), not the run's end. */
  private stopping = false;
  private ended = false;
  private settle!: { resolve(code: number): void; reject(err: Error): void };
  private readonly forward = (signal: NodeJS.Signals) => {
    if (this.child) this.child.kill(signal);
    if (!this.child || this.stopping) this.pending.push(signal);
  };

  constructor(private readonly command: string[]) {
    this.exited = new Promise((resolve, reject) => { this.settle = { resolve, reject }; });
    // Listen before spawning: the child can run (and be signalled about) before spawn() returns.
    for (const s of FORWARDED) process.on(s, this.forward);
  }

  start(env: Record<string, string>): void {
    if (this.ended) return;
    const [file, ...args] = this.command;
    const child = spawn(file!, args, { env, stdio: 'inherit' });
    this.child = child;
    for (const s of this.pending.splice(0)) child.kill(s);
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (child.pid !== undefined) return; // a failed kill of a running child, not a failed start
      this.end(() => this.settle.reject(err.code === 'ENOENT'
        ? new CliError(`${file}: command not found`, 127)
        : new CliError(`${file}: ${err.message}`, 126)));
    });
    child.once('exit', (code, signal) => {
      if (child !== this.child || this.stopping) return;
      this.end(() => this.settle.resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
    });
  }

  /** Stops the current child (`signal`, SIGKILL after `graceMs`) and starts a new one with `env` (not once the run has ended). */
  async restart(env: Record<string, string>, stop: StopOptions): Promise<void> {
    const child = this.child;
    if (this.ended || !child) return;
    this.stopping = true;
    try {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill(stop.signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), stop.graceMs);
        await gone;
        clearTimeout(timer);
      }
    } finally {
      this.stopping = false;
    }
    this.start(env);
  }

  /** Stops passing signals on (the run is over). */
  dispose(): void {
    this.ended = true;
    for (const s of FORWARDED) process.off(s, this.forward);
  }

  private end(report: () => void): void {
    if (this.ended) return;
    this.dispose();
    report();
  }
}

/** Runs the command once; resolves with its exit status. */
export function runChild(command: string[], env: Record<string, string>): Promise<number> {
  const child = new ChildSupervisor(command);
  child.start(env);
  return child.exited;
}
