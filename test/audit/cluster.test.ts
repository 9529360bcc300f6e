/**
 * The audit trail on a 3-node NATS cluster with JetStream: the stream gets three replicas,
 * so losing the server the worker is connected to costs a short wait, not the trail.
 */
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditFacts, AuditTrail } from '../../src/audit/index.js';
import { NatsCluster } from '../helpers/cluster.js';
import { eventually, natsConnection, storedEvents, trailOn } from './support.js';

describe('audit trail on a NATS cluster', { timeout: 240_000 }, () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;
  let trail: AuditTrail;
  const ev = (key: string): AuditFacts => ({ op: 'create', status: 200, slug: 'ci', admin: false, keyId: 'x', key, version: 1 });

  beforeAll(async () => {
    cluster = await NatsCluster.start(3);
    nc = await connect({ servers: cluster.urls, noAsyncTraces: true, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    trail = trailOn(nc);
    await trail.start(); // waits for the cluster to elect its JetStream leader
  });
  afterAll(async () => {
    await trail?.stop();
    await nc?.close();
    await cluster?.stop();
  });

  it('keeps three replicas and stores events after the worker\'s server dies', async () => {
    // JetStream API calls on a young or shrinking cluster may time out while it elects leaders: retry them.
    let replicas: number | undefined;
    await eventually('a stream of three replicas', async () => {
      const jsm = await nc.jetstreamManager({ timeout: 5_000 });
      replicas = (await jsm.streams.info('SECRET_SVC_AUDIT')).config.num_replicas;
      return replicas === 3;
    }, 60_000).catch((err: Error) => { throw new Error(`${err.message}; the stream has ${replicas ?? 'no'} replicas`); });
    await eventually('an event stored before the kill', () => trail.recordAndWait(ev('before/kill')).then(() => true, () => false), 60_000);
    const node = cluster.nodeOf(nc.getServer())!;
    await node.stop('SIGKILL', true);
    trail.record(ev('queued/after-kill'));
    await eventually('an event stored after the kill', () => trail.recordAndWait(ev('after/kill')).then(() => true, () => false), 60_000);
    await eventually('the queue stored', () => trail.pending() === 0, 30_000);
    const other = await natsConnection(cluster.urls.find((u) => u !== node.url)!);
    try {
      const wanted = ['before/kill', 'queued/after-kill', 'after/kill'];
      await eventually('every event readable from a surviving server', async () => {
        const keys = (await storedEvents(await other.jetstreamManager({ timeout: 5_000 }))).map((s) => s.event.key);
        return wanted.every((k) => keys.includes(k));
      }, 60_000);
    } finally {
      await other.close();
    }
  });
});
