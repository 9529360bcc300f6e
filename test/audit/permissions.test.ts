/**
 * The audit part of SECURITY.md's NATS permissions on a real nats-server with JetStream: the
 * worker user, on its own inbox prefix, sets up the stream and stores events (its
 * acknowledgements come to that prefix); a caller cannot publish on secret.audit.>; an
 * auditor reads the trail through its own inbox prefix and can write nothing; a subscription
 * NATS refuses is reported, and the connection survives it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, AuditTrail } from '../../src/audit/index.js';
import { AckedPublisher } from '../../src/audit/acks.js';
import { runCli } from '../../src/cli/program.js';
import { securityAuthorization } from '../helpers/security-config.js';
import { freePort, NatsServer } from '../helpers/servers.js';
import { natsLogins, storedEvents, trailOn } from './support.js';

/** The configuration of SECURITY.md ("NATS permissions"), read from the document, with test passwords. */
const CONFIG = securityAuthorization({ 'secret-svc-worker': 'worker-pass', 'deploy-svc': 'deploy-pass', auditor: 'auditor-pass' });
/** The only inbox prefix the worker user may subscribe under. */
const WORKER_INBOX = '_INBOX_secret-svc-worker';

describe('NATS permissions for the audit trail (SECURITY.md)', { timeout: 60_000 }, () => {
  let dir: string;
  let nats: NatsServer;
  let worker: NatsConnection;
  let trail: AuditTrail;
  const { login, closeAll } = natsLogins(() => nats.url);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'secret-svc-audit-perm-'));
    writeFileSync(join(dir, 'nats.conf'), CONFIG);
    nats = await new NatsServer(await freePort(), ['-c', join(dir, 'nats.conf')]).start();
    worker = await login('secret-svc-worker', 'worker-pass', WORKER_INBOX);
    trail = trailOn(worker);
    await trail.start();
    await trail.recordAndWait({ op: 'read', status: 200, slug: 'deploy-svc', admin: false, keyId: 'x', key: 'deploy-svc/A', version: 1 });
  });
  afterAll(async () => {
    await trail?.stop();
    await closeAll();
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets a worker create the stream and store events', async () => {
    const admin = await login('secret-svc-worker', 'worker-pass', WORKER_INBOX);
    const jsm = await admin.jetstreamManager();
    expect((await jsm.streams.info('SECRET_SVC_AUDIT')).state.messages).toBe(1);
  });

  it('refuses a caller that publishes an audit event', async () => {
    const caller = await login('deploy-svc', 'deploy-pass', '_INBOX_deploy-svc');
    // A publish the stream would acknowledge, were it let through.
    const forged = JSON.stringify({ v: 1, op: 'read', status: 200, slug: 'forged' });
    await expect(caller.jetstream().publish('secret.audit.read', forged, { timeout: 1000 })).rejects.toThrow();
    // Only the worker's event is stored (read as the auditor: workers may not read the trail).
    const auditor = await login('auditor', 'auditor-pass', '_INBOX_auditor');
    const events = (await storedEvents(await auditor.jetstreamManager())).map((s) => s.event);
    expect(events.map((e) => e.slug)).toEqual(['deploy-svc']);
  });

  it('lets an auditor read the trail with secret-svc audit, on its own inbox prefix', async () => {
    let stdout = '';
    let stderr = '';
    const write = { out: process.stdout.write, err: process.stderr.write };
    const env = { user: process.env.NATS_USER, pass: process.env.NATS_PASSWORD };
    process.env.NATS_USER = 'auditor';
    process.env.NATS_PASSWORD = 'auditor-pass';
    process.stdout.write = ((c: string | Uint8Array) => { stdout += String(c); return true; }) as typeof process.stdout.write;
    process.stderr.write = ((c: string | Uint8Array) => { stderr += String(c); return true; }) as typeof process.stderr.write;
    let code: number;
    try {
      code = await runCli(['node', 'secret-svc', '--nats-url', nats.url, 'audit', '--inbox-prefix', '_INBOX_auditor']);
    } finally {
      process.stdout.write = write.out;
      process.stderr.write = write.err;
      if (env.user === undefined) delete process.env.NATS_USER; else process.env.NATS_USER = env.user;
      if (env.pass === undefined) delete process.env.NATS_PASSWORD; else process.env.NATS_PASSWORD = env.pass;
    }
    expect(code, stderr).toBe(0);
    const events = stdout.trim().split('\n').map((l) => JSON.parse(l) as AuditEvent);
    expect(events).toEqual([expect.objectContaining({ op: 'read', slug: 'deploy-svc', key: 'deploy-svc/A' })]);
  });

  it('refuses an auditor that publishes an audit event', async () => {
    const auditor = await login('auditor', 'auditor-pass', '_INBOX_auditor');
    await expect(auditor.jetstream().publish('secret.audit.read', '{}', { timeout: 1000 })).rejects.toThrow();
    const jsm = await worker.jetstreamManager();
    expect((await jsm.streams.info('SECRET_SVC_AUDIT')).state.messages).toBe(1);
  });

  it('reports a subscription NATS refuses, and the connection survives it', async () => {
    // A worker login whose inbox prefix its user may not subscribe under.
    const nc = await login('secret-svc-worker', 'worker-pass', '_INBOX_not-allowed');
    const refused: string[] = [];
    const acks = new AckedPublisher(nc, (err, subject) => refused.push(`${subject}: ${err.message}`));
    await nc.flush();
    for (let i = 0; i < 40 && refused.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(refused).toEqual([expect.stringMatching(/^_INBOX_not-allowed\..*Permissions Violation/i)]);
    // No acknowledgement can come: a wait times out (the trail answers 503), nothing throws elsewhere.
    await expect(acks.publish({ subject: 'secret.audit.read', data: Buffer.from('{}'), id: 'x' }, 300)).rejects.toThrow(/timeout/i);
    acks.close();
    expect(nc.isClosed()).toBe(false);
    await nc.flush();
    const stillServed = nc.subscribe('secret.internal.probe', { max: 1 });
    nc.publish('secret.internal.probe', 'ok');
    for await (const m of stillServed) expect(m.string()).toBe('ok');
  });
});
