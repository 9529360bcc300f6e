/** The worker's startup check of what Redis keeps on disk (src/store/persistence.ts). */
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { checkPersistence } from '../../src/store/persistence.js';
import { RedisServer } from '../helpers/servers.js';

const servers: RedisServer[] = [];
afterAll(async () => { await Promise.all(servers.map((s) => s.cleanup())); });

async function warningFor(extra: string[]): Promise<string | undefined> {
  const server = await RedisServer.start(extra);
  servers.push(server);
  const redis = new Redis(server.url);
  try {
    return await checkPersistence(redis);
  } finally {
    redis.disconnect();
  }
}

it('warns loudly when Redis keeps nothing on disk, softly for RDB only, not at all with AOF', async () => {
  const [nothing, rdb, aof] = await Promise.all([
    warningFor([]), // the helper's default: --save '' --appendonly no
    warningFor(['--save', '3600 1']),
    warningFor(['--appendonly', 'yes', '--appendfsync', 'everysec']),
  ]);
  expect(nothing).toMatch(/^REDIS KEEPS NOTHING ON DISK .*restart loses every secret/);
  expect(rdb).toMatch(/only RDB snapshots/);
  expect(rdb).not.toMatch(/NOTHING ON DISK/);
  expect(aof).toBeUndefined();
});
