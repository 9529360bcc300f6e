/**
 * The key rotation of docs/key-rotation.md with `secret-svc dev` and a second worker (`npm start`'s entry point
 * with `dev --print-worker-env`'s environment), under a steady load of reads and writes:
 * [old] → [old, new] → [new, old] → `keys rewrap` → [new], each step a restart of both, the
 * ring given to dev in DIR/encryption.keys. No request fails; every value is still readable.
 * Then dev with a keyring that cannot open the data refuses, with a hint true for its flags.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretClient } from '@secret-svc/client';
import { keyIdOf } from '../../src/keyring-source.js';
import { spawnWorker, type WorkerProcess } from '../helpers/process.js';
import { NatsServer, RedisServer } from '../helpers/servers.js';
import { cli, startCli, type LiveCli } from './run-cli.js';

const BANNER_END = /keys status\)\n/;
const id = (k: string) => keyIdOf(Buffer.from(k, 'base64'));
let nats: NatsServer; let redis: RedisServer; let dir: string;
const live: Array<LiveCli | WorkerProcess> = [];

beforeAll(async () => {
  [nats, redis] = await Promise.all([NatsServer.start(), RedisServer.start()]);
  dir = mkdtempSync(join(tmpdir(), 'secret-svc-dev-rot-'));
});
afterAll(async () => {
  await Promise.allSettled(live.map((p) => p.stop('SIGKILL')));
  await nats?.stop();
  await redis?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** `export NAME='value'` / `export NAME=value` lines. */
function exportsOf(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/^export (\w+)='?([^'\n]*)'?$/gm)].map((m) => [m[1]!, m[2]!]));
}

describe('key rotation with secret-svc dev and a second worker', () => {
  it('[old] → [old, new] → [new, old] → rewrap → [new] with no failed request', { timeout: 300_000 }, async () => {
    const home = join(dir, 'svc');
    const devArgs = ['dev', '--dir', home, '--nats-url', nats.url, '--redis-url', redis.url];
    const startDev = async () => {
      const d = startCli(devArgs);
      live.push(d);
      await d.waitFor(BANNER_END, 60_000);
      return d;
    };
    const workerEnv = async () => {
      const r = await cli(['dev', '--dir', home, '--print-worker-env']);
      expect(r.code, r.stderr).toBe(0);
      return exportsOf(r.stdout);
    };
    const startSecond = async () => {
      const w = await spawnWorker(await workerEnv(), { timeoutMs: 60_000 });
      expect(w.proc.exitCode, w.output()).toBeNull();
      live.push(w);
      return w;
    };
    const ring = (...keys: string[]) => writeFileSync(join(home, 'encryption.keys'), `${keys.join('\n')}\n`, { mode: 0o600 });

    let dev = await startDev();
    expect(dev.stdout()).toMatch(/keyring \S*encryption\.key: key id [0-9a-f]{8}\n/);
    const OLD = readFileSync(join(home, 'encryption.key'), 'utf8').trim();
    const NEW = randomBytes(32).toString('base64');
    let second = await startSecond();
    const env = await workerEnv();
    expect(Object.keys(env).sort()).toEqual(['NATS_URL', 'REDIS_URL', 'SECRET_SVC_ENCRYPTION_KEY_FILE', 'SECRET_SVC_ISSUERS',
      'SECRET_SVC_REDIS_PREFIX', 'SECRET_SVC_SERVICE_KEY']);

    const client = await SecretClient.fromEnv({ ...exportsOf(dev.stdout()) }, { timeoutMs: 15_000 });
    const failures: string[] = [];
    let reads = 0; let writes = 0; let running = true;
    for (let i = 0; i < 10; i++) await client.create(`rot/K${i}`, `v${i}`);
    const load = (async () => {
      for (let n = 0; running; n++) {
        try {
          expect((await client.read(`rot/K${n % 10}`)).value).toMatch(/^v\d+/);
          reads++;
          await client.update(`rot/K${n % 10}`, { value: `v${n % 10}.${n}` });
          writes++;
        } catch (err) {
          failures.push((err as Error).message);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    // Each step: dev restarts (the second worker serves meanwhile), then the second worker does.
    const step = async (...keys: string[]) => {
      ring(...keys);
      expect(await dev.stop('SIGTERM')).toBe(0);
      dev = await startDev();
      expect(dev.stdout()).toContain(`key ids ${keys.map(id).join(', ')} (the first seals)`);
      expect(await second.stop('SIGTERM')).toBe(0);
      second = await startSecond();
    };
    await step(OLD, NEW);
    await step(NEW, OLD);
    const keysEnv = await workerEnv();
    expect(keysEnv.SECRET_SVC_ENCRYPTION_KEYS_FILE).toBe(join(home, 'encryption.keys'));
    const rewrap = await cli(['keys', 'rewrap'], { env: keysEnv });
    expect(rewrap.code, rewrap.stderr).toBe(0);
    const status = await cli(['keys', 'status', '--json'], { env: keysEnv });
    expect(JSON.parse(status.stdout)).toEqual([
      { id: id(NEW), inRing: true, values: expect.any(Number) }, { id: id(OLD), inRing: true, values: 0 }]);
    ring(NEW);
    expect(await dev.stop('SIGTERM')).toBe(0);
    dev = await startDev();
    expect(dev.stdout()).toMatch(new RegExp(`keyring \\S*encryption\\.keys: key id ${id(NEW)}\\n`));
    expect(await second.stop('SIGTERM')).toBe(0);
    second = await startSecond();

    running = false;
    await load;
    for (let i = 0; i < 10; i++) expect((await client.read(`rot/K${i}`)).value).toMatch(new RegExp(`^v${i}`));
    await client.close();
    expect(failures).toEqual([]);
    expect(reads).toBeGreaterThan(20);
    expect(writes).toBeGreaterThan(20);

    // Without encryption.keys dev is back on its old single key, which opens nothing now.
    expect(await dev.stop('SIGTERM')).toBe(0);
    unlinkSync(join(home, 'encryption.keys'));
    const refused = await cli(devArgs);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/cannot open the data/);
    expect(refused.stderr).toContain('encryption.keys');
    expect(refused.stderr).toContain('--redis-prefix');
    // Its servers were given by URL: --start-servers would not help, so it is not offered.
    expect(refused.stderr).not.toContain('--start-servers');
    expect(await second.stop('SIGTERM')).toBe(0);
  });
});
