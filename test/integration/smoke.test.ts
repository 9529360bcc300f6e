import { afterAll, beforeAll, expect, it } from 'vitest';
import { SecretClient } from '../../client/src/index.js';
import { TestIssuer } from '../helpers/identities.js';
import { NatsServer, RedisServer } from '../helpers/servers.js';
import { startTestWorker, testEnv } from '../helpers/worker.js';

let nats: NatsServer; let redis: RedisServer; let worker: Awaited<ReturnType<typeof startTestWorker>>;
const issuer = new TestIssuer();
beforeAll(async () => {
  [nats, redis] = await Promise.all([NatsServer.start(), RedisServer.start()]);
  worker = await startTestWorker(testEnv({ natsUrl: nats.url, redisUrl: redis.url, issuers: [issuer.publicKey] }));
});
afterAll(async () => { await worker?.stop(); await nats?.stop(); await redis?.cleanup(); });

it('smoke', async () => {
  for (const encoding of ['msgpack', 'json'] as const) {
    const c = issuer.caller('deploy-svc');
    const client = await SecretClient.connect({ servers: nats.url, credential: c.credential, key: c.key, encoding });
    console.log(await client.whoami());
    const key = `deploy-svc/K-${encoding}`;
    console.log(await client.create(key, 'hunter2'));
    console.log(await client.read(key));
    console.log(await client.update(key, { value: 'x2', readers: ['deploy-svc', 'other'] }));
    console.log(await client.read(key));
    console.log(await client.list());
    console.log(await client.readMany([key, 'nope/x']));
    console.log(await client.delete(key));
    await expect(client.read(key)).rejects.toMatchObject({ status: 404 });
    await client.close();
  }
});
