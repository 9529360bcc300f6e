/**
 * Distributed engines for tests, each on free ports in temp dirs and owned by the test that
 * starts it: a Redis Cluster (masters only), a Redis Sentinel set (master, replica, one
 * sentinel) and a NATS cluster. All waits are bounded.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, NatsServer, RedisServer, ServerProcess } from './servers.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `redis-cli -p PORT args…` with a bounded run time; resolves with its trimmed stdout. */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10_000 });
  return stdout.trim();
}

/** Polls `check` until it returns true; throws `what` after `timeoutMs`. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The value of `field` in an INFO-style "field:value" reply. */
export function infoField(text: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(text)?.[1]?.trim();
}

export class RedisCluster {
  private constructor(readonly nodes: RedisServer[]) {}

  /** Starts `count` cluster-enabled nodes, not yet joined (call create()). */
  static async startNodes(count = 3): Promise<RedisCluster> {
    const nodes: RedisServer[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const port = await freePort();
        // An explicit bus port: the default (port + 10000) may be taken or beyond 65535.
        const busPort = await freePort();
        nodes.push(await new RedisServer(port, [
          '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-port', String(busPort),
          '--cluster-node-timeout', '2000',
        ]).start());
      }
    } catch (err) {
      await Promise.allSettled(nodes.map((n) => n.cleanup()));
      throw err;
    }
    return new RedisCluster(nodes);
  }

  /** Starts `count` masters and joins them into a cluster whose state is ok. */
  static async start(count = 3): Promise<RedisCluster> {
    const cluster = await RedisCluster.startNodes(count);
    try {
      await cluster.create();
    } catch (err) {
      await cluster.cleanup();
      throw err;
    }
    return cluster;
  }

  /** `redis-cli --cluster create` (masters only), then waits for cluster_state:ok on every node. */
  async create(): Promise<void> {
    await run('redis-cli', [
      '--cluster', 'create', ...this.nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes',
    ], { timeout: 30_000 });
    await waitUntil('cluster_state:ok on every node', async () => {
      const states = await Promise.all(this.nodes.map(async (n) => infoField(await redisCli(n.port, 'cluster', 'info'), 'cluster_state')));
      return states.every((s) => s === 'ok');
    });
  }

  /** REDIS_URL for REDIS_MODE=cluster: the given nodes (default all) as seeds. */
  url(nodes: RedisServer[] = this.nodes): string {
    return nodes.map((n) => n.url).join(',');
  }

  /** The master serving `key`'s hash slot. */
  async ownerOf(key: string): Promise<RedisServer> {
    const slot = Number(await redisCli(this.nodes[0]!.port, 'cluster', 'keyslot', key));
    for (const node of this.nodes) {
      // CLUSTER NODES, own line: id addr flags master ping pong epoch link slot-range…
      const lines = await redisCli(node.port, 'cluster', 'nodes');
      const me = lines.split('\n').find((l) => l.includes('myself'));
      const ranges = me?.split(' ').slice(8) ?? [];
      if (ranges.some((r) => inRange(slot, r))) return node;
    }
    throw new Error(`no node owns slot ${slot}`);
  }

  async cleanup(): Promise<void> {
    await Promise.allSettled(this.nodes.map((n) => n.cleanup()));
  }
}

function inRange(slot: number, range: string): boolean {
  if (range.startsWith('[')) return false; // a slot being migrated
  const [lo, hi] = range.split('-').map(Number);
  return slot >= lo! && slot <= (hi ?? lo)!;
}

/** One master, one replica and one sentinel monitoring them as `mymaster`. */
export class RedisSentinelSet {
  readonly masterName = 'mymaster';
  private constructor(
    readonly master: RedisServer,
    readonly replica: RedisServer,
    readonly sentinel: ServerProcess,
    private readonly dir: string,
  ) {}

  static async start(): Promise<RedisSentinelSet> {
    const started: { cleanup(): Promise<void> }[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'secret-svc-sentinel-'));
    try {
      const master = await RedisServer.start();
      started.push(master);
      const replica = await RedisServer.start(['--replicaof', '127.0.0.1', String(master.port)]);
      started.push(replica);
      await waitUntil('the replica to sync', async () =>
        infoField(await redisCli(replica.port, 'info', 'replication'), 'master_link_status') === 'up');
      const port = await freePort();
      const conf = join(dir, 'sentinel.conf');
      // Sentinel rewrites its config file, so it lives in the temp dir.
      writeFileSync(conf, [
        `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`,
        `sentinel monitor mymaster 127.0.0.1 ${master.port} 1`,
        'sentinel down-after-milliseconds mymaster 1000',
        'sentinel failover-timeout mymaster 5000',
        'sentinel parallel-syncs mymaster 1',
        '',
      ].join('\n'));
      const sentinel = await new ServerProcess('redis-sentinel', port, 'redis-server', [conf, '--sentinel']).start();
      started.push({ cleanup: () => sentinel.stop() });
      const set = new RedisSentinelSet(master, replica, sentinel, dir);
      await waitUntil('the sentinel to know the replica', async () => {
        const replicas = await redisCli(port, 'sentinel', 'replicas', 'mymaster');
        return replicas.includes(String(replica.port)) && /\bslave\b/.test(replicas) && !/s_down|disconnected/.test(replicas);
      });
      return set;
    } catch (err) {
      for (const s of started.reverse()) await s.cleanup().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** REDIS_URL for REDIS_MODE=sentinel. */
  get url(): string {
    return `redis://127.0.0.1:${this.sentinel.port}`;
  }

  /** The port of the master the sentinel currently names. */
  async masterPort(): Promise<number> {
    const reply = await redisCli(this.sentinel.port, 'sentinel', 'get-master-addr-by-name', this.masterName);
    return Number(reply.split('\n')[1]);
  }

  /** SENTINEL FAILOVER, then waits until the replica is the master the sentinel names. */
  async failover(): Promise<{ from: RedisServer; to: RedisServer }> {
    const fromPort = await this.masterPort();
    const [from, to] = fromPort === this.master.port ? [this.master, this.replica] : [this.replica, this.master];
    await redisCli(this.sentinel.port, 'sentinel', 'failover', this.masterName);
    // Done when the old master has been turned into a replica too: until then it still takes
    // writes that the new master will never see (Sentinel's asynchronous failover window).
    await waitUntil('the failover', async () =>
      (await this.masterPort()) === to.port && infoField(await redisCli(to.port, 'info', 'replication'), 'role') === 'master' &&
      infoField(await redisCli(from.port, 'info', 'replication'), 'role') === 'slave');
    return { from, to };
  }

  async cleanup(): Promise<void> {
    await this.sentinel.stop();
    await Promise.allSettled([this.master.cleanup(), this.replica.cleanup()]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** `count` nats-servers joined by routes, each with a monitoring port to check the routes. */
export class NatsCluster {
  private constructor(readonly nodes: NatsServer[], private readonly monitorPorts: number[]) {}

  static async start(count = 3): Promise<NatsCluster> {
    const ports = await Promise.all(Array.from({ length: count }, async () => ({
      client: await freePort(), route: await freePort(), monitor: await freePort(),
    })));
    const nodes: NatsServer[] = [];
    try {
      for (const p of ports) {
        const routes = ports.filter((o) => o !== p).map((o) => `nats://127.0.0.1:${o.route}`).join(',');
        nodes.push(await new NatsServer(p.client, [
          '--cluster_name', 'secret-svc-test', '--cluster', `nats://127.0.0.1:${p.route}`, '--routes', routes,
          '-m', String(p.monitor),
        ]).start());
      }
      const cluster = new NatsCluster(nodes, ports.map((p) => p.monitor));
      await waitUntil('every NATS node to route to the others', async () =>
        (await Promise.all(cluster.monitorPorts.map((m) => routeCount(m)))).every((n) => n >= count - 1));
      return cluster;
    } catch (err) {
      await Promise.allSettled(nodes.map((n) => n.stop()));
      throw err;
    }
  }

  /** NATS_URL / client `servers`: every node. */
  get urls(): string[] {
    return this.nodes.map((n) => n.url);
  }

  /** The node whose client port is in `serverUrl` (as nc.getServer() reports it). */
  nodeOf(serverUrl: string): NatsServer | undefined {
    return this.nodes.find((n) => serverUrl.endsWith(`:${n.port}`));
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.nodes.map((n) => n.stop()));
  }
}

async function routeCount(monitorPort: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${monitorPort}/routez`, { signal: AbortSignal.timeout(2000) });
  return ((await res.json()) as { num_routes: number }).num_routes;
}
