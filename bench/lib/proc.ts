/** Child processes of the benchmark (workers, echo responders, load generators) and /proc readings. */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg, setPriority } from 'node:os';
import type { FromLoad, LoadInit, RunJob, RunResult } from './messages.js';

export const ROOT = new URL('../../', import.meta.url).pathname;

export interface Child {
  proc: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Spawns a node process and waits until its output matches `ready`. */
export async function startNode(args: string[], env: Record<string, string>, ready: RegExp, what: string): Promise<Child> {
  const proc = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => { out = (out + d.toString()).slice(-20_000); });
  proc.stderr!.on('data', (d: Buffer) => { out = (out + d.toString()).slice(-20_000); });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const deadline = Date.now() + 30_000;
  while (!ready.test(out)) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${what} did not start; output:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    proc,
    output: () => out,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A forked load generator (bench/load.ts) driven over IPC. */
export class LoadGenerator {
  /**
   * CPU priority (nice) of every generator started from now on (`--clients-nice`): on a
   * 2-core machine the callers' own CPU otherwise takes the service's cores, which callers on
   * other hosts would not.
   */
  static nice = 0;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: RunResult) => void; reject: (e: Error) => void; phase?: (p: 'start' | 'end') => void }>();
  private constructor(readonly proc: ChildProcess) {
    proc.on('message', (m: FromLoad) => {
      if (m.type === 'ready') return;
      const w = this.waiting.get(m.id);
      if (m.type === 'phase') {
        w?.phase?.(m.phase);
        return;
      }
      this.waiting.delete(m.id);
      if (m.type === 'result') w?.resolve(m.result);
      else w?.reject(new Error(`load generator failed: ${m.error}`));
    });
    proc.on('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`load generator exited (${code})`));
      this.waiting.clear();
    });
  }

  /** `profDir`: profile the generator too (node --cpu-prof, into profDir/load): its CPU shares the cores with the worker's. */
  static async start(init: Omit<LoadInit, 'type'>, profDir?: string): Promise<LoadGenerator> {
    const execArgv = ['--import', 'tsx', ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}/load`] : [])];
    const proc = fork(new URL('../load.ts', import.meta.url).pathname, [], { cwd: ROOT, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    if (LoadGenerator.nice !== 0 && proc.pid !== undefined) setPriority(proc.pid, LoadGenerator.nice);
    const gen = new LoadGenerator(proc);
    const ready = new Promise<void>((resolve, reject) => {
      proc.once('message', (m: FromLoad) => (m.type === 'ready' ? resolve() : reject(new Error('load generator did not start'))));
      proc.once('exit', () => reject(new Error('load generator exited at startup')));
    });
    proc.send({ type: 'init', ...init } satisfies LoadInit);
    await ready;
    return gen;
  }

  run(job: Omit<RunJob, 'type' | 'id'>, phase?: (p: 'start' | 'end') => void): Promise<RunResult> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, ...(phase ? { phase } : {}) });
      this.proc.send({ type: 'run', id, ...job } satisfies RunJob);
    });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.send({ type: 'exit' });
    await exited;
  }
}

/** Peak resident set size of a process, in bytes (VmHWM). */
export function peakRss(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU ticks (user + system, 1/100 s) of a process. */
export function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return -1;
  }
}

/** This process and all its descendants. */
function ourPids(): number[] {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) if (/^\d+$/.test(name)) parents.set(Number(name), parentOf(Number(name)));
  const ours = new Set([process.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parents) if (!ours.has(pid) && ours.has(ppid)) { ours.add(pid); grew = true; }
  }
  return [...ours];
}

function machineTicks(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = cpu[3]! + (cpu[4] ?? 0);
  const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

export interface Busy {
  /** Share of the machine's CPU (all cores) used by processes that are not the benchmark's. */
  otherProcesses: number;
  /** Share used by the benchmark (servers, workers, load generators). */
  benchmark: number;
  loadavgBefore: number[];
  loadavgAfter: number[];
}

/** Measures how busy the machine is with other work while the benchmark runs. */
export function busyMeter(): { stop(): Busy } {
  const before = machineTicks();
  const pids = ourPids();
  const oursBefore = new Map(pids.map((p) => [p, processTicks(p)]));
  const loadavgBefore = loadavg();
  return {
    stop() {
      const after = machineTicks();
      let ours = 0;
      for (const p of ourPids()) ours += processTicks(p) - (oursBefore.get(p) ?? 0);
      const total = after.total - before.total;
      const busy = after.busy - before.busy;
      return {
        otherProcesses: total > 0 ? Math.max(0, busy - ours) / total : 0,
        benchmark: total > 0 ? ours / total : 0,
        loadavgBefore,
        loadavgAfter: loadavg(),
      };
    },
  };
}

export function cpuInfo(): { model: string; cores: number } {
  const list = cpus();
  return { model: list[0]?.model.trim() ?? 'unknown', cores: list.length };
}

/** The benchmark's processes by role: given pids plus our nats-server and redis-server children. */
export function rolePids(known: Record<string, number[]>): Record<string, number[]> {
  const roles: Record<string, number[]> = { ...known, 'nats-server': [], 'redis-server': [] };
  for (const pid of ourPids()) {
    let comm = '';
    try { comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { continue; }
    if (comm === 'nats-server' || comm === 'redis-server') roles[comm]!.push(pid);
  }
  return roles;
}

/** Snapshot of CPU ticks by role; `since` gives CPU microseconds per role. */
export function cpuByRole(roles: Record<string, number[]>): { since(requests: number): Record<string, number> } {
  const ticks = (pids: number[]) => pids.reduce((n, p) => n + processTicks(p), 0);
  const before = Object.fromEntries(Object.entries(roles).map(([r, pids]) => [r, ticks(pids)]));
  return {
    since(requests: number) {
      return Object.fromEntries(Object.entries(roles).map(([r, pids]) => [r, ((ticks(pids) - before[r]!) * 10_000) / Math.max(1, requests)]));
    },
  };
}
