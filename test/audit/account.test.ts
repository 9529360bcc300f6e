/**
 * SECURITY.md's layout with the audit trail in an account of its own, on a real nats-server:
 * a worker in APP (no JetStream) sets up the stream in AUDIT through the imported API subjects
 * and stores events; the auditor (in AUDIT) reads them; and a user of APP allowed everything,
 * `$JS.API.>` included, can neither purge the trail nor read it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditTrail } from '../../src/audit/index.js';
import { securityAccounts } from '../helpers/security-config.js';
import { freePort, NatsServer } from '../helpers/servers.js';
import { natsLogins, storedEvents, trailOn } from './support.js';

const STREAM = 'SECRET_SVC_AUDIT';
/** SECURITY.md's configuration, plus one careless user in APP with no permissions at all. */
const CONFIG = securityAccounts({ 'secret-svc-worker': 'worker-pass', 'deploy-svc': 'deploy-pass', auditor: 'auditor-pass' })
  .replace(/(APP: \{[^]*?users = \[)/, '$1\n      { user: careless, password: "careless-pass" }');

describe('the audit trail in an account of its own (SECURITY.md)', { timeout: 60_000 }, () => {
  let dir: string;
  let nats: NatsServer;
  let trail: AuditTrail;
  const { login, closeAll } = natsLogins(() => nats.url);
  const auditorEvents = async () => storedEvents(await (await login('auditor', 'auditor-pass', '_INBOX_auditor')).jetstreamManager());

  beforeAll(async () => {
    expect(CONFIG).toContain('user: careless');
    dir = mkdtempSync(join(tmpdir(), 'secret-svc-audit-account-'));
    writeFileSync(join(dir, 'nats.conf'), CONFIG);
    nats = await new NatsServer(await freePort(), ['-c', join(dir, 'nats.conf')]).start();
    trail = trailOn(await login('secret-svc-worker', 'worker-pass', '_INBOX_secret-svc-worker'));
    await trail.start();
    await trail.recordAndWait({ op: 'read', status: 200, slug: 'deploy-svc', admin: false, keyId: 'x', key: 'deploy-svc/A', version: 1 });
  });
  afterAll(async () => {
    await trail?.stop();
    await closeAll();
    await nats?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lets a worker in APP create the stream in AUDIT and store events the auditor reads', async () => {
    expect((await auditorEvents()).map((e) => e.event)).toEqual([expect.objectContaining({ op: 'read', slug: 'deploy-svc', key: 'deploy-svc/A' })]);
  });

  it('keeps every other JetStream API of the trail out of reach of APP, whatever a user there may publish', async () => {
    const careless = await login('careless', 'careless-pass');
    const jsm = await careless.jetstreamManager({ checkAPI: false, timeout: 1000 });
    await expect(jsm.streams.purge(STREAM)).rejects.toThrow();
    await expect(jsm.streams.delete(STREAM)).rejects.toThrow();
    await expect(jsm.streams.getMessage(STREAM, { seq: 1 })).rejects.toThrow();
    await expect(jsm.consumers.add(STREAM, { ack_policy: 'none' as never })).rejects.toThrow();
    // Its publish on the trail's subjects goes through the import (as the workers' do): a forged
    // event would be stored, so the APP users' permissions must still deny secret.audit.> as above.
    const worker = await login('secret-svc-worker', 'worker-pass', '_INBOX_secret-svc-worker');
    await expect((await worker.jetstreamManager()).streams.purge(STREAM)).rejects.toThrow();
    expect(await auditorEvents()).toHaveLength(1);
  });
});
