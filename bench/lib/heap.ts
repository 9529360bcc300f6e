/**
 * A built worker in its own process that reports its live heap (bench/lib/heap-worker.mjs),
 * and what a heap snapshot says grew: for the held-watch memory figures (bench/watch.ts,
 * bench/watch-heap.ts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ROOT } from './proc.js';

export interface HeapWorker {
  proc: ChildProcess;
  /** Live memory after a full collection, and the watches held. */
  heap(): Promise<{ memory: NodeJS.MemoryUsage; held: number }>;
  held(): Promise<number>;
  /** Writes a heap snapshot (after a full collection) to `file`. */
  snapshot(file: string): Promise<void>;
  stop(): Promise<void>;
}

/** bench/lib/heap-worker.mjs (the build, run by plain node), forked with --expose-gc. */
export async function forkHeapWorker(env: Record<string, string>): Promise<HeapWorker> {
  const proc = fork(`${ROOT}bench/lib/heap-worker.mjs`, [], {
    execArgv: ['--expose-gc'], env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    proc.once('message', () => resolve());
    proc.once('exit', (code) => reject(new Error(`heap worker exited (${code})`)));
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const ask = <T>(message: string) => new Promise<T>((resolve) => {
    proc.once('message', (m) => resolve(m as T));
    proc.send(message);
  });
  return {
    proc,
    heap: () => ask('heap'),
    held: async () => (await ask<{ held: number }>('held')).held,
    snapshot: async (file) => { await ask(`snap:${file}`); },
    async stop() {
      proc.send('stop');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Sends `count` watch requests (`send(i)`) in chunks of 250, each chunk held before the next
 * is sent: a burst of thousands would only meet the in-flight limits. Returns their replies
 * (they come when the watches are answered; a failed one resolves undefined).
 */
export async function holdInChunks(count: number, send: (i: number) => Promise<unknown>, held: () => Promise<number>): Promise<Promise<unknown>[]> {
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < count; i += 250) {
    const end = Math.min(count, i + 250);
    for (let j = i; j < end; j++) pending.push(send(j).catch(() => undefined));
    for (let t = 0; t < 100 && (await held()) < end; t++) await new Promise((r) => setTimeout(r, 20));
  }
  return pending;
}

export function vmRss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/**
 * The objects in snapshot `after` that `before` did not have (V8 keeps a node's id across
 * snapshots of one process), their self sizes summed by kind: the constructor's name for
 * objects, the V8 node type otherwise ("closure", "code", "string", …; "hidden" and
 * "native" with their name, e.g. "system / Context").
 */
export function grownByKind(before: string, after: string): Map<string, { bytes: number; count: number }> {
  const a = JSON.parse(readFileSync(before, 'utf8')) as Snapshot;
  const fields = a.snapshot.meta.node_fields;
  const [idAt, width] = [fields.indexOf('id'), fields.length];
  const known = new Set<number>();
  for (let i = 0; i < a.nodes.length; i += width) known.add(a.nodes[i + idAt]!);
  const b = JSON.parse(readFileSync(after, 'utf8')) as Snapshot;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
  const types = b.snapshot.meta.node_types[0];
  const grown = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < b.nodes.length; i += width) {
    if (known.has(b.nodes[i + idAt]!)) continue;
    const type = types[b.nodes[i + typeAt]!]!;
    const name = b.strings[b.nodes[i + nameAt]!]!;
    const kind = type === 'object' ? name
      : type === 'hidden' || type === 'native' || type === 'array' ? `${type}: ${name}`
        : type.endsWith('string') ? 'strings' : type;
    const entry = grown.get(kind) ?? { bytes: 0, count: 0 };
    entry.bytes += b.nodes[i + sizeAt]!;
    entry.count++;
    grown.set(kind, entry);
  }
  return grown;
}
