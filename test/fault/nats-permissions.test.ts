/**
 * The NATS permissions SECURITY.md recommends, on a real nats-server: the worker serves,
 * a caller gets its replies on its own inbox prefix, and a caller can neither subscribe to
 * `_INBOX.>` (other callers' replies) nor to `secret.>` (other callers' requests).
 */
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'nats';
import { SecretClient } from '@secret-svc/client';
import { TestIssuer } from '../helpers/identities.js';
import { subscribeRefused } from '../helpers/permissions.js';
import { securityAuthorization } from '../helpers/security-config.js';
import { freePort, NatsServer, RedisServer } from '../helpers/servers.js';
import { startTestWorker, testEnv } from '../helpers/worker.js';
import { sleep } from './support.js';

/** The configuration of SECURITY.md ("NATS permissions"), read from the document, with test passwords. */
const CONFIG = securityAuthorization({ 'secret-svc-worker': 'worker-pass', 'deploy-svc': 'deploy-pass', auditor: 'auditor-pass' });

describe('NATS permissions from SECURITY.md', { timeout: 60_000 }, () => {
  let nats: NatsServer;
  let redis: RedisServer;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;
  let dir: string;
  const issuer = new TestIssuer();
  const caller = issuer.caller('deploy-svc');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'secret-svc-nats-'));
    const conf = join(dir, 'nats.conf');
    writeFileSync(conf, CONFIG);
    nats = await new NatsServer(await freePort(), ['-c', conf]).start();
    redis = await RedisServer.start();
    // The worker logs in as its NATS user from its environment.
    worker = await startTestWorker(testEnv({
      natsUrl: nats.url, redisUrl: redis.url, issuers: [issuer.publicKey],
      extra: { NATS_USER: 'secret-svc-worker', NATS_PASSWORD: 'worker-pass', NATS_INBOX_PREFIX: '_INBOX_secret-svc-worker' },
    }));
  });

  afterAll(async () => {
    await worker?.stop();
    await nats?.stop();
    await redis?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves a caller that uses its own inbox prefix, and refuses it the shared subjects', async () => {
    const nc = await connect({ servers: `127.0.0.1:${nats.port}`, user: 'deploy-svc', pass: 'deploy-pass', inboxPrefix: '_INBOX_deploy-svc', noAsyncTraces: true });
    const client = await SecretClient.connect({ nc, credential: caller.credential, key: caller.key, retries: 0, timeoutMs: 5000 });
    await client.create('deploy-svc/DB', 'pw');
    expect((await client.read('deploy-svc/DB')).value).toBe('pw');

    const othersReplies = await subscribeRefused(nc, '_INBOX.>');
    const othersRequests = await subscribeRefused(nc, 'secret.>');
    console.log(`caller served on its inbox prefix; subscribe _INBOX.> refused: ${othersReplies}; subscribe secret.> refused: ${othersRequests}`);
    // The probe itself tells an allowed subscription from a refused one.
    expect(await subscribeRefused(nc, '_INBOX_deploy-svc.probe')).toBe(false);
    expect(othersReplies).toBe(true);
    expect(othersRequests).toBe(true);
    await nc.close();
  });

  it('a worker may publish the revocation hint (the other workers hear it)', async () => {
    const listener = await connect({ servers: `127.0.0.1:${nats.port}`, user: 'secret-svc-worker', pass: 'worker-pass', inboxPrefix: '_INBOX_secret-svc-worker', noAsyncTraces: true });
    let hints = 0;
    listener.subscribe('secret.internal.revocations', { callback: () => { hints++; } });
    await listener.flush();
    const admin = issuer.caller('root', { admin: true });
    const nc = await connect({ servers: `127.0.0.1:${nats.port}`, user: 'deploy-svc', pass: 'deploy-pass', inboxPrefix: '_INBOX_deploy-svc', noAsyncTraces: true });
    const client = await SecretClient.connect({ nc, credential: admin.credential, key: admin.key, retries: 0, timeoutMs: 5000 });
    await client.revoke({ jti: 'perm-test' });
    for (let i = 0; i < 40 && hints === 0; i++) await sleep(25);
    expect(hints).toBeGreaterThan(0);
    await nc.close();
    await listener.close();
  });
});
