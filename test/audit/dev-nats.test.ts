/** `secret-svc dev` runs nats-server with JetStream, its store under the dev directory (.secret-svc/). */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { pickPort, startDevNats, which } from '../../src/cli/dev/servers.js';
import { natsConnection, trailOn } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'secret-svc-dev-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('starts nats-server with JetStream and keeps the trail in <dir>/jetstream across restarts', async () => {
  const bin = which('nats-server');
  expect(bin).toBeDefined();
  const port = await pickPort();
  let server = await startDevNats(bin!, port, dir);
  let nc = await natsConnection(server.url);
  try {
    const trail = trailOn(nc);
    await trail.start();
    await trail.recordAndWait({ op: 'whoami', status: 200, slug: 'dev-admin', admin: true, keyId: 'x' });
    await trail.stop();
  } finally {
    await nc.close();
    await server.stop();
  }
  expect(readdirSync(join(dir, 'jetstream')).length).toBeGreaterThan(0);
  server = await startDevNats(bin!, port, dir);
  nc = await natsConnection(server.url);
  try {
    const jsm = await nc.jetstreamManager();
    expect((await jsm.streams.info('SECRET_SVC_AUDIT')).state.messages).toBe(1);
  } finally {
    await nc.close();
    await server.stop();
  }
  expect(existsSync(join(dir, 'nats.log'))).toBe(true);
});
