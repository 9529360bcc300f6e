/**
 * SIGTERM to the process the operator started drains the worker and leaves nothing running:
 * `npm start` (npm passes the signal to the worker, which its script `exec`s), the documented
 * production command `node dist/src/main.js`, and `secret-svc serve`. A worker whose parent is
 * killed outright (npm SIGKILLed) notices and drains too. These run the built files (`dist/`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestIssuer } from '../helpers/identities.js';
import { ROOT } from '../helpers/process.js';
import { NatsServer, RedisServer } from '../helpers/servers.js';
import { testEnv } from '../helpers/worker.js';

const SLOW = 90_000;
const issuer = new TestIssuer();
const KEY = randomBytes(32).toString('base64');
let nats: NatsServer; let redis: RedisServer;
const started: ChildProcess[] = [];
const pids: number[] = [];

beforeAll(async () => {
  [nats, redis] = await Promise.all([NatsServer.start(), RedisServer.start()]);
});
afterAll(async () => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  await nats?.stop();
  await redis?.cleanup();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Started {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The worker's pid, from its startup log line (it may be a child of `proc`). */
  workerPid: number;
}

async function start(command: string, args: string[]): Promise<Started> {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp',
    ...testEnv({ natsUrl: nats.url, redisUrl: redis.url, issuers: [issuer.publicKey], key: KEY, extra: { LOG_LEVEL: 'info' } }) };
  const proc = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(proc);
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + 30_000;
  while (!/worker serving/.test(out)) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`${command} ${args.join(' ')} did not serve:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const workerPid = Number(/"pid":(\d+).*worker serving/.exec(out)?.[1]);
  pids.push(workerPid);
  return { proc, output: () => out, exited, workerPid };
}

async function gone(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

describe('stopping a worker', () => {
  it.each([
    ['npm start', 'npm', ['start', '--silent']],
    ['node dist/src/main.js (the documented production command)', process.execPath, ['dist/src/main.js']],
    ['secret-svc serve', process.execPath, ['dist/src/cli/main.js', 'serve']],
  ])('SIGTERM to %s: drains, exits 0, nothing left running', { timeout: SLOW }, async (_name, command, args) => {
    const w = await start(command, args as string[]);
    w.proc.kill('SIGTERM');
    const { code, signal } = await w.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(w.output()).toMatch(/"signal":"SIGTERM".*"msg":"draining"/);
    expect(w.output()).toMatch(/"msg":"stopped"/);
    expect(await gone(w.workerPid, 10_000)).toBe(true);
  });

  it('npm killed outright (SIGKILL, nothing passed on): the worker notices, drains and exits', { timeout: SLOW }, async () => {
    const w = await start('npm', ['start', '--silent']);
    // With `exec` npm's child is the worker itself; without, a shell would sit between them.
    expect(w.workerPid).not.toBe(w.proc.pid);
    w.proc.kill('SIGKILL');
    await w.exited;
    expect(await gone(w.workerPid, 15_000)).toBe(true);
    // The worker's output went to npm's pipe, which it still holds: the drain is logged there.
    expect(w.output()).toMatch(/"signal":"parent exited".*"msg":"draining"/);
  });
});
