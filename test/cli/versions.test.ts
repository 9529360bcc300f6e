/**
 * The versions CLI (docs/protocol.md §9), in process: `get KEY --version N` (while `secret-svc
 * --version` stays the CLI's version), `versions KEY`, and `rollback KEY N` guarded by the
 * current version.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecretClient } from '@secret-svc/client';
import { VERSION } from '../../src/version.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { runCli } from './in-process.js';

let stack: Stack;
let dir: string;
let flags: string[];
let c: SecretClient;
const cli = (...args: string[]) => runCli([...flags, ...args]);

beforeAll(async () => {
  stack = await startStack();
  dir = mkdtempSync(join(tmpdir(), 'secret-svc-versions-'));
  const caller = stack.issuer.caller('ver-svc');
  writeFileSync(join(dir, 'caller.cred'), caller.credential);
  writeFileSync(join(dir, 'caller.jwk'), JSON.stringify(caller.key), { mode: 0o600 });
  flags = ['--nats-url', stack.nats.url, '--credential-file', join(dir, 'caller.cred'), '--key-file', join(dir, 'caller.jwk')];
  c = await stack.client(caller, 'json');
  await c.create('ver-svc/db', 'pw-1');
  await c.update('ver-svc/db', { value: 'pw-2' });
  await c.update('ver-svc/db', { value: 'pw-3' });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('--version', () => {
  it('at the top level prints the CLI version, also after global options', async () => {
    for (const args of [['--version'], ['-V'], ['--timeout', '100', '--version']]) {
      const r = await runCli(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${VERSION}\n`);
    }
  });

  it('after get, reads that version of the secret', async () => {
    const r = await cli('get', 'ver-svc/db', '--version', '2');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('pw-2\n');
    const json = await cli('get', 'ver-svc/db', '--json', '--version', '1');
    expect(JSON.parse(json.stdout)).toMatchObject({ key: 'ver-svc/db', value: 'pw-1', version: 1 });
    expect((await cli('get', 'ver-svc/db')).stdout).toBe('pw-3\n');
  });

  it('refuses a version that is not a positive integer (exit 2) and names one not kept (exit 3)', async () => {
    for (const bad of ['0', '-1', '1.5', 'two']) {
      const r = await cli('get', 'ver-svc/db', '--version', bad);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toMatch(/--version must be a positive integer/);
    }
    const missing = await cli('get', 'ver-svc/db', '--version', '9');
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/version 9/);
  });
});

describe('secret-svc versions', () => {
  it('prints the kept versions newest first as a table, or --json', async () => {
    const table = await cli('versions', 'ver-svc/db');
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^VERSION\s+UPDATED\s+UPDATED BY$/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/)[0])).toEqual(['3 (current)', '2', '1']);
    expect(lines[1]).toMatch(/ver-svc$/);
    const json = JSON.parse((await cli('versions', 'ver-svc/db', '--json')).stdout);
    expect(json.key).toBe('ver-svc/db');
    expect(json.versions.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);
    expect(json.versions[0]).toEqual({ version: 3, updatedAt: expect.any(String), updatedBy: 'ver-svc' });
    expect((await cli('versions', 'ver-svc/nothing')).code).toBe(3);
  });
});

describe('secret-svc rollback', () => {
  it("writes version N's value as a new version and prints it", async () => {
    await c.create('ver-svc/rb', 'good');
    await c.update('ver-svc/rb', { value: 'bad' });
    const r = await cli('rollback', 'ver-svc/rb', '1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('rolled back ver-svc/rb to the value of version 1: now version 3\n');
    const now = await c.read('ver-svc/rb');
    expect(now).toMatchObject({ value: 'good', version: 3 });
    expect((await c.read('ver-svc/rb', { version: 2 })).value).toBe('bad');
  });

  it('refuses with 409 (exit 6) when the secret moved on while it ran, changing nothing', async () => {
    await c.create('ver-svc/race', 'v1');
    await c.update('ver-svc/race', { value: 'v2' });
    // Another writer lands between the rollback's look at the current version and its write:
    // the CLI's client shares SecretClient's prototype, whose read of the old version is wrapped.
    const proto = Object.getPrototypeOf(c) as { read: SecretClient['read'] };
    const original = proto.read;
    proto.read = async function (this: SecretClient, key, o = {}) {
      const r = await original.call(this, key, o);
      if (this !== c && o.version !== undefined) await c.update('ver-svc/race', { value: 'v3 by another' });
      return r;
    };
    try {
      const r = await cli('rollback', 'ver-svc/race', '1');
      expect(r.code).toBe(6);
      expect(r.stderr).toMatch(/^error: 409 conflict/);
    } finally {
      proto.read = original;
    }
    expect(await c.read('ver-svc/race')).toMatchObject({ value: 'v3 by another', version: 3 });
  });

  it('refuses a bad N (exit 2) and a version not kept (exit 3)', async () => {
    expect((await cli('rollback', 'ver-svc/db', 'x')).code).toBe(2);
    const r = await cli('rollback', 'ver-svc/db', '7');
    expect(r.code).toBe(3);
  });
});

describe('the audit trail of set and rollback', () => {
  it('set of an existing key records its update (no refused create first); rollback is an update with rollbackOf', async () => {
    expect((await cli('set', 'ver-svc/audited', 'a')).code).toBe(0);
    expect((await cli('set', 'ver-svc/audited', 'b')).stdout).toBe('updated ver-svc/audited (version 2)\n');
    expect((await cli('rollback', 'ver-svc/audited', '1')).code).toBe(0);
    const r = await cli('audit', '--json', '--key', 'ver-svc/audited');
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { op: string; status: number; version?: number; rollbackOf?: number });
    expect(events.filter((e) => e.status !== 200)).toEqual([]);
    expect(events.filter((e) => e.op === 'create' || e.op === 'update').map(({ op, version, rollbackOf }) => ({ op, version, rollbackOf }))).toEqual([
      { op: 'create', version: 1, rollbackOf: undefined },
      { op: 'update', version: 2, rollbackOf: undefined },
      { op: 'update', version: 3, rollbackOf: 1 },
    ]);
    const table = await cli('audit', '--table', '--key', 'ver-svc/audited', '--op', 'update');
    expect(table.stdout).toMatch(/update +200 .*ver-svc\/audited +v3 rollback of v1/);
  });
});
