/**
 * `secret-svc audit` in-process through runCli(argv), against a real nats-server whose trail
 * a real AuditTrail filled; `--follow` as a child process (it ends on a signal).
 */
import type { JetStreamManager, NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, AuditFacts, AuditTrail } from '../../src/audit/index.js';
import { runCli } from '../../src/cli/program.js';
import { NatsServer } from '../helpers/servers.js';
import { startCli } from '../cli/run-cli.js';
import { eventually, natsConnection, sleep, storedEvents, trailOn } from './support.js';

let nats: NatsServer;
let nc: NatsConnection;
let jsm: JetStreamManager;
let trail: AuditTrail;
let stored: AuditEvent[];
/** Between the first batch and the second (stream time). */
let middle: string;

const who = { admin: false, keyId: 'k'.repeat(43) };
const first: AuditFacts[] = [
  { op: 'create', status: 200, slug: 'deploy-svc', ...who, key: 'deploy-svc/DB_PASSWORD', version: 1 },
  { op: 'read', status: 200, slug: 'deploy-svc', ...who, key: 'deploy-svc/DB_PASSWORD', version: 1 },
  { op: 'read', status: 403, slug: 'ci', ...who, key: 'prod/API_TOKEN' },
  { op: 'list', status: 200, slug: 'ops', admin: true, keyId: 'o'.repeat(43), prefix: 'deploy-svc/', count: 1 },
];
const second: AuditFacts[] = [
  { op: 'read', status: 404, slug: 'ci', ...who, keys: ['deploy-svc/A', 'prod/B'] },
  { op: 'delete', status: 200, slug: 'deploy-svc', ...who, key: 'deploy-svc/DB_PASSWORD', jti: 'jti-7' },
];

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const write = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = ((chunk: string | Uint8Array) => { stdout += String(chunk); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => { stderr += String(chunk); return true; }) as typeof process.stderr.write;
  try {
    const code = await runCli(['node', 'secret-svc', '--nats-url', nats.url, 'audit', ...args]);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
}

const lines = (stdout: string) => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEvent);

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await natsConnection(nats.url);
  jsm = await nc.jetstreamManager();
  trail = trailOn(nc);
  await trail.start();
  trail.setWorker('w-test');
  for (const f of first) await trail.recordAndWait(f);
  await sleep(1100);
  middle = new Date().toISOString();
  await sleep(50);
  for (const f of second) await trail.recordAndWait(f);
  trail.record({ op: 'whoami', status: 401 }); // folded
  await trail.stop();
  stored = (await storedEvents(jsm)).map((s) => s.event);
  expect(stored).toHaveLength(7);
});

afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

describe('secret-svc audit', () => {
  it('prints every event as a JSON line, oldest first, when not on a terminal', async () => {
    const r = await cli([]);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual(stored);
  });

  it.each([
    [['--slug', 'ci'], (e: AuditEvent) => e.slug === 'ci'],
    [['--key', 'deploy-svc/'], (e: AuditEvent) => !!(e.key?.startsWith('deploy-svc/') || e.prefix?.startsWith('deploy-svc/') || e.keys?.some((k) => k.startsWith('deploy-svc/')))],
    [['--op', 'read'], (e: AuditEvent) => e.op === 'read'],
    [['--op', 'create,delete'], (e: AuditEvent) => e.op === 'create' || e.op === 'delete'],
    [['--status', '4xx'], (e: AuditEvent) => e.status >= 400 && e.status < 500],
    [['--status', 'forbidden,404'], (e: AuditEvent) => e.status === 403 || e.status === 404],
    [['--op', 'read', '--slug', 'deploy-svc'], (e: AuditEvent) => e.op === 'read' && e.slug === 'deploy-svc'],
  ])('filters %j', async (args, keep) => {
    const r = await cli(args);
    expect(r.code, r.stderr).toBe(0);
    const expected = stored.filter(keep);
    expect(expected.length).toBeGreaterThan(0);
    expect(lines(r.stdout)).toEqual(expected);
  });

  it('starts --since an ISO time or a duration back from now', async () => {
    const later = await cli(['--since', middle]);
    expect(later.code, later.stderr).toBe(0);
    expect(lines(later.stdout).map((e) => e.op)).toEqual(['read', 'delete', 'whoami']);
    const hour = await cli(['--since', '1h']);
    expect(lines(hour.stdout)).toEqual(stored);
  });

  it('prints a table with --table (what it shows on a terminal)', async () => {
    const r = await cli(['--table', '--op', 'read,list,whoami']);
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^TIME\s+OP\s+STATUS\s+WHO\s+WHAT\s+DETAIL$/);
    expect(rows).toHaveLength(6);
    expect(rows[1]).toMatch(/^\S+Z\s+read\s+200\s+deploy-svc\s+deploy-svc\/DB_PASSWORD\s+v1$/);
    expect(rows[2]).toMatch(/\sread\s+403 forbidden\s+ci\s+prod\/API_TOKEN$/);
    expect(rows[3]).toMatch(/\slist\s+200\s+ops \(admin\)\s+deploy-svc\/\*\s+1 listed$/);
    expect(rows[4]).toMatch(/\sread\s+404 not_found\s+ci\s+deploy-svc\/A,prod\/B$/);
    expect(rows[5]).toMatch(/\swhoami\s+401 unauthenticated\s+-\s+x1 requests$/);
  });

  it('says "no events" when nothing matches', async () => {
    const r = await cli(['--slug', 'nobody']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('no events');
  });

  it('names a missing stream (exit 3)', async () => {
    const r = await cli(['--stream', 'NO_SUCH_TRAIL']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('NO_SUCH_TRAIL');
  });

  it.each([
    [['--since', 'yesterday']],
    [['--status', '2xy']],
    [['--op', 'secret.>']],
    [['--json', '--table']],
  ])('refuses %j (exit 2)', async (args) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: --/);
  });
});

describe('secret-svc audit --follow', () => {
  it('prints new events as they are stored, until interrupted', { timeout: 60_000 }, async () => {
    const follow = startCli(['audit', '--follow', '--op', 'update'], { env: { NATS_URL: nats.url } });
    try {
      await sleep(200);
      const t = trailOn(nc);
      await t.start();
      let n = 0;
      // Keep writing until the follower (a fresh Node process) is up and prints them.
      await eventually('the follower to print an update', async () => {
        await t.recordAndWait({ op: 'update', status: 200, slug: 'ci', ...who, key: `follow/${n++}`, version: 2 });
        await t.recordAndWait({ op: 'read', status: 200, slug: 'ci', ...who, key: 'not/printed', version: 2 });
        return /"op":"update"/.test(follow.stdout());
      }, 50_000);
      await t.stop();
      expect(await follow.stop('SIGTERM')).toBe(0);
      const printed = lines(follow.stdout());
      expect(printed.length).toBeGreaterThan(0);
      expect(printed.every((e) => e.op === 'update' && e.key?.startsWith('follow/'))).toBe(true);
    } finally {
      await follow.stop('SIGKILL');
    }
  });
});
