/**
 * The CLI's watching commands as real processes against a real worker: `watch` prints changes,
 * `run --watch` restarts its child with new values (and keeps it when the fetch fails),
 * `export --out --watch` replaces its file atomically; their usage errors come before anything runs.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Stack } from '../helpers/stack.js';
import { callerEnv, tempDir, useStack } from './callers.js';
import { baseEnv, cliIn, startCli, type LiveCli } from './run-cli.js';

const stackOf = useStack();
let stack: Stack;
beforeEach(() => { stack = stackOf(); });

async function set(env: Record<string, string>, key: string, value: string): Promise<void> {
  const r = await cliIn(['set', key], { env, input: value });
  expect(r.code, r.stderr).toBe(0);
}

/** Waits until `check` holds (polling), failing with the process's output after `timeoutMs`. */
async function until(live: LiveCli, what: string, check: () => boolean, timeoutMs = 40_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\nstdout:\n${live.stdout()}\nstderr:\n${live.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const count = (text: string, re: RegExp) => text.match(new RegExp(re, 'g'))?.length ?? 0;

describe('secret-svc watch', () => {
  it('prints a line per change (text and JSON) and exits 0 on Ctrl-C', { timeout: 120_000 }, async () => {
    const env = callerEnv(stack, 'wl-svc');
    const text = startCli(['watch', 'wl-svc/'], { env });
    const json = startCli(['watch', '--keys', 'wl-svc/A', '--json'], { env });
    try {
      await until(text, 'the text watch to start', () => text.stderr().includes('watching wl-svc/*'));
      await until(json, 'the JSON watch to start', () => json.stderr().includes('watching wl-svc/A'));
      await set(env, 'wl-svc/A', 'one');
      await set(env, 'wl-svc/B', 'two');
      await text.waitFor(/^\S+Z create wl-svc\/A v1 rev (\d+)\n\S+Z create wl-svc\/B v1 rev \d+\n$/);
      await json.waitFor(/\n/);
      const change = JSON.parse(json.stdout()) as Record<string, unknown>;
      expect(change).toMatchObject({ key: 'wl-svc/A', op: 'create', version: 1 });
      expect(Object.keys(change).sort()).toEqual(['at', 'key', 'op', 'rev', 'version']);
      // --since replays from an earlier revision; one newer than the store's newest is a reset.
      const ahead = startCli(['watch', 'wl-svc/', '--json', '--since', '999999999'], { env });
      const replay = await startReplay(env, Number(change.rev) - 1);
      expect(replay).toBe('create wl-svc/A v1\ncreate wl-svc/B v1\n');
      await ahead.waitFor(/\n/);
      expect(JSON.parse(ahead.stdout())).toMatchObject({ reset: true, rev: expect.any(Number) });
      expect(await ahead.stop('SIGINT')).toBe(0);
    } finally {
      expect(await text.stop('SIGINT')).toBe(0);
      expect(await json.stop('SIGTERM')).toBe(0);
    }
    expect(json.stdout()).not.toContain('wl-svc/B'); // --keys: only A
  });
});

/** `watch --since REV`: the lines it prints at once (op, key, version), then Ctrl-C. */
async function startReplay(env: Record<string, string>, since: number): Promise<string> {
  const live = startCli(['watch', 'wl-svc/', '--since', String(since)], { env });
  await live.waitFor(/wl-svc\/B/);
  expect(await live.stop('SIGINT')).toBe(0);
  return live.stdout().replace(/^\S+ /gm, '').replace(/ rev \d+/g, '');
}

describe('run --watch', () => {
  /** A child that prints its variables at each start, stops on TERM, and exits 7 once STOP exists. */
  const child = (stop: string) => ['sh', '-c', `echo "start DB=$DB NEW=$NEW"; trap 'echo stopped; exit 0' TERM; ` +
    `while [ ! -e '${stop}' ]; do sleep 0.1; done; exit 7`];

  it('restarts the child with new values, keeps it when the fetch fails, and returns its own status', { timeout: 180_000 }, async () => {
    const env = callerEnv(stack, 'rw-svc');
    await set(env, 'rw-svc/DB', 'one');
    const stop = join(tempDir('rw'), 'STOP');
    const live = startCli(['run', '--watch', '--prefix', 'rw-svc/', '--strip-prefix', '--key', 'rw-svc/DB', '--', ...child(stop)], { env });
    try {
      await live.waitFor(/start DB=one NEW=\n/);
      await new Promise((r) => setTimeout(r, 500)); // the watch starts before the child; a margin anyway
      // A changed value: the old child is stopped (TERM), a new one gets the new value.
      await set(env, 'rw-svc/DB', 'two');
      await live.waitFor(/stopped\nstart DB=two NEW=\n/);
      // A secret appearing under the prefix restarts it too.
      await set(env, 'rw-svc/NEW', 'n');
      await live.waitFor(/start DB=two NEW=n\n/);

      // The fetch fails (the --key secret is gone: 404): the child keeps running, with a warning.
      const starts = count(live.stdout(), /start /);
      expect((await cliIn(['rm', 'rw-svc/DB'], { env })).code).toBe(0);
      await until(live, 'the warning', () => live.stderr().includes('cannot fetch the changed secrets, sh keeps running'));
      expect(live.stderr()).toMatch(/404 not_found.*rw-svc\/DB/);
      await new Promise((r) => setTimeout(r, 1500));
      expect(count(live.stdout(), /start /)).toBe(starts);
      expect(live.proc.exitCode).toBeNull();
      // Once it is back, the next change restarts the child.
      await set(env, 'rw-svc/DB', 'three');
      await live.waitFor(/start DB=three NEW=n\n/);

      // Changes within the debounce make one restart, not three.
      const before = count(live.stdout(), /start /);
      await Promise.all(['X', 'Y', 'Z'].map((k) => set(env, `rw-svc/${k}`, k)));
      await until(live, 'a restart', () => count(live.stdout(), /start /) > before);
      await new Promise((r) => setTimeout(r, 2500));
      expect(count(live.stdout(), /start /) - before).toBeLessThan(3);

      // The child ending by itself ends run with its status.
      writeFileSync(stop, '');
      expect(await live.exited).toBe(7);
    } finally {
      await live.stop('SIGKILL');
    }
    expect(live.stdout()).not.toMatch(/start DB= /); // never started without the --key secret
  });

  it('--restart-signal is what stops the child; one that ignores it is killed after --restart-grace', { timeout: 120_000 }, async () => {
    const env = callerEnv(stack, 'rs-svc');
    await set(env, 'rs-svc/DB', 'one');
    // Named on their command lines, so that what is left of them can be found.
    const tag = `rs-child-${process.pid}-${Date.now()}`;
    const hup = startCli(['run', '--watch', '--key', 'rs-svc/DB', '--restart-signal', 'HUP', '--', 'sh', '-c',
      `: ${tag}-hup; echo "start $rs_svc_DB"; trap 'echo got HUP; exit 0' HUP; while :; do sleep 0.1; done`], { env });
    const stubborn = startCli(['run', '--watch', '--key', 'rs-svc/DB', '--restart-grace', '1s', '--', 'sh', '-c',
      `: ${tag}-stubborn; echo "start $rs_svc_DB"; trap 'echo ignored TERM' TERM; while :; do sleep 0.1; done`], { env });
    try {
      await Promise.all([hup.waitFor(/start one\n/), stubborn.waitFor(/start one\n/)]);
      await new Promise((r) => setTimeout(r, 500));
      await set(env, 'rs-svc/DB', 'two');
      await hup.waitFor(/start one\ngot HUP\nstart two\n/);
      await stubborn.waitFor(/start one\nignored TERM\nstart two\n/);
      expect(processesNamed(`${tag}-hup`)).not.toEqual([]); // run and its child, found by their tag
      // SIGTERM to run reaches its child (the HUP one has no trap for it: it ends, and run with it).
      expect(await hup.stop('SIGTERM')).toBe(143);
      expect(processesNamed(`${tag}-hup`)).toEqual([]);
    } finally {
      // A SIGKILLed run passes nothing on: its child (one ignoring TERM) is ended here, not left running.
      await Promise.all([hup.stop('SIGKILL'), stubborn.stop('SIGKILL')]);
      for (const pid of processesNamed(tag)) process.kill(pid, 'SIGKILL');
    }
  });
});

describe('export --out --watch', () => {
  it('replaces the file atomically on every change (a reader never sees it partial) and runs --on-change', { timeout: 180_000 }, async () => {
    const env = callerEnv(stack, 'ew-svc');
    const keys = ['A', 'B', 'C'];
    const big = (gen: number) => String(gen % 10).repeat(60_000);
    for (const k of keys) await set(env, `ew-svc/${k}`, big(0));
    const dir = tempDir('ew');
    const file = join(dir, 'secrets.json');
    const hooks = join(dir, 'hooks');
    writeFileSync(file, 'old\n', { mode: 0o644 });
    chmodSync(file, 0o644);
    const live = startCli(['export', 'ew-svc/', '--out', file, '--watch', '--on-change', `echo rewritten >> '${hooks}'`], { env });
    const reader = startReader(file, join(dir, 'STOP'));
    try {
      await until(live, 'the first write', () => live.stderr().includes(`wrote ${file}`));
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(existsSync(hooks)).toBe(false); // the first write is not a change
      for (let gen = 1; gen <= 4; gen++) {
        for (const k of keys) await set(env, `ew-svc/${k}`, big(gen));
      }
      await until(live, 'the last rewrite', () => {
        try {
          return (JSON.parse(readFileSync(file, 'utf8')) as Array<{ value: string }>).every((s) => s.value === big(4));
        } catch {
          return false;
        }
      });
      writeFileSync(join(dir, 'STOP'), '');
      const seen = await reader;
      expect(seen.bad, JSON.stringify(seen)).toEqual([]);
      expect(seen.reads).toBeGreaterThan(10);
      expect(seen.versions).toBeGreaterThan(1); // it did read while the file was being replaced
      expect(statSync(file).mode & 0o777).toBe(0o600);
      // One --on-change run per rewrite (the last hook may still be running: wait for it).
      const hooksRun = () => (existsSync(hooks) ? count(readFileSync(hooks, 'utf8'), /rewritten\n/) : 0);
      await until(live, 'a hook per rewrite', () => hooksRun() > 0 && hooksRun() === count(live.stderr(), /rewrote /));
      expect(readFileSync(hooks, 'utf8')).toBe('rewritten\n'.repeat(hooksRun()));
    } finally {
      writeFileSync(join(dir, 'STOP'), '');
      expect(await live.stop('SIGINT')).toBe(0);
    }
  });

  it('--out without --watch is written atomically with mode 0600; an existing file needs --force', async () => {
    const env = callerEnv(stack, 'eo-svc');
    await set(env, 'eo-svc/A', 'a');
    const file = join(tempDir('eo'), 'out.json');
    expect((await cliIn(['export', 'eo-svc/', '--out', file], { env })).code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await cliIn(['export', 'eo-svc/', '--out', file], { env });
    expect([again.code, again.stderr]).toEqual([2, `error: ${file} exists; use --force to replace it\n`]);
    chmodSync(file, 0o644);
    expect((await cliIn(['export', 'eo-svc/', '--out', file, '--force'], { env })).code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject([{ key: 'eo-svc/A', value: 'a' }]);
  });
});

/**
 * Reads `file` in a loop in another process until `stop` exists: how many reads, the distinct
 * contents seen, and every read that was not a complete export (partial or mixed within a value).
 */
function startReader(file: string, stop: string): Promise<{ reads: number; versions: number; bad: string[] }> {
  const script = `
    const fs = require('fs'); const [file, stop] = process.argv.slice(1);
    let reads = 0; const bad = []; const seen = new Set();
    while (!fs.existsSync(stop)) {
      let text; try { text = fs.readFileSync(file, 'utf8'); } catch (e) { bad.push(e.code); continue; }
      reads++;
      if (text === 'old\\n') continue;
      try {
        const secrets = JSON.parse(text);
        if (secrets.length !== 3 || !secrets.every((s) => s.value.length === 60000 && new Set(s.value).size === 1)) bad.push('content');
        seen.add(secrets.map((s) => s.value[0]).join(''));
      } catch { bad.push('partial: ' + text.length + ' bytes'); }
    }
    console.log(JSON.stringify({ reads, versions: seen.size, bad: bad.slice(0, 5) }));`;
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['-e', script, file, stop], { env: baseEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    proc.once('error', reject);
    proc.once('exit', () => { try { resolve(JSON.parse(out)); } catch (err) { reject(err); } });
  });
}

describe('usage errors, before anything runs', () => {
  it('watch, run --watch and export --watch refuse bad flags with exit 2', async () => {
    const env = callerEnv(stack, 'ue-svc');
    await set(env, 'ue-svc/A', 'a');
    const ran = ['sh', '-c', 'echo ran'];
    const cases: Array<[string[], RegExp]> = [
      [['watch', 'ue-svc/', '--keys', 'ue-svc/A'], /give PREFIX or --keys, not both/],
      [['watch', '--since=-1'], /--since must be a revision: a non-negative integer/],
      [['watch', '--since', '1.5'], /--since must be a revision/],
      [['run', '--watch', '--', ...ran], /--watch needs --prefix and\/or --key/],
      [['run', '--watch', '--key', 'ue-svc/A', '--restart-signal', 'SIGNOPE', '--', ...ran], /--restart-signal: unknown signal "SIGNOPE"/],
      [['run', '--watch', '--key', 'ue-svc/A', '--restart-grace', '0', '--', ...ran], /--restart-grace must be a positive duration/],
      [['run', '--watch', '--key', 'ue-svc/A', '--restart-grace', '-5s', '--', ...ran], /--restart-grace must be a positive duration/],
      [['run', '--key', 'ue-svc/A', '--restart-signal', 'HUP', '--', ...ran], /--restart-signal and --restart-grace need --watch/],
      [['export', 'ue-svc/', '--watch'], /--watch needs --out FILE/],
      [['export', 'ue-svc/', '--on-change', 'true'], /--on-change needs --watch/],
    ];
    const results = await Promise.all(cases.map(([args]) => cliIn(args, { env })));
    results.forEach((r, i) => {
      expect([r.code, r.stdout], cases[i]![0].join(' ')).toEqual([2, '']);
      expect(r.stderr).toMatch(cases[i]![1]);
    });
  });
});

/** The processes whose command line contains `text` (pgrep -f). */
function processesNamed(text: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', text], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch (err) {
    if ((err as { status?: number }).status === 1) return []; // nothing matches
    throw err;
  }
}
