/**
 * Where the worker's Redis is: one server, a Redis Cluster, or a master found through
 * Redis Sentinel. Parsed from REDIS_MODE, REDIS_URL, REDIS_SENTINEL_MASTER and
 * REDIS_SENTINEL_PASSWORD; every error names the variable to fix.
 */

export const REDIS_MODES = ['standalone', 'cluster', 'sentinel'] as const;
export type RedisMode = (typeof REDIS_MODES)[number];

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const DEFAULT_PORT = 6379;
const DEFAULT_SENTINEL_PORT = 26379;

export interface RedisNode {
  host: string;
  port: number;
}

/** Credentials and TLS of the data nodes (the standalone server, cluster nodes, or master and replicas). */
interface NodeAccess {
  username: string | undefined;
  password: string | undefined;
  tls: boolean;
}

export type RedisTarget =
  | { mode: 'standalone'; url: string }
  | ({ mode: 'cluster'; nodes: RedisNode[] } & NodeAccess)
  | ({ mode: 'sentinel'; sentinels: RedisNode[]; masterName: string; sentinelPassword: string | undefined; db: number } & NodeAccess);

export class RedisTargetError extends Error {}

export interface RedisEnv {
  REDIS_MODE?: string | undefined;
  REDIS_URL?: string | undefined;
  REDIS_SENTINEL_MASTER?: string | undefined;
  REDIS_SENTINEL_PASSWORD?: string | undefined;
  /** Checked in cluster mode: a brace in it would move keys off the shared hash tag. */
  SECRET_SVC_REDIS_PREFIX?: string | undefined;
}

export function parseRedisTarget(env: RedisEnv): RedisTarget {
  const mode = (env.REDIS_MODE ?? 'standalone') as RedisMode;
  if (!REDIS_MODES.includes(mode)) {
    throw new RedisTargetError(`REDIS_MODE: "${String(env.REDIS_MODE).slice(0, 40)}" is not one of ${REDIS_MODES.join(', ')}`);
  }
  if (mode !== 'sentinel') {
    for (const name of ['REDIS_SENTINEL_MASTER', 'REDIS_SENTINEL_PASSWORD'] as const) {
      if (env[name] !== undefined) throw new RedisTargetError(`${name} is only used with REDIS_MODE=sentinel (REDIS_MODE is ${mode})`);
    }
  }
  if (mode === 'standalone') return standalone(env.REDIS_URL ?? DEFAULT_REDIS_URL);

  const text = env.REDIS_URL;
  if (text === undefined) {
    throw new RedisTargetError(
      mode === 'cluster'
        ? 'REDIS_URL is required with REDIS_MODE=cluster: comma-separated seed nodes, e.g. redis://10.0.0.1:6379,redis://10.0.0.2:6379'
        : 'REDIS_URL is required with REDIS_MODE=sentinel: comma-separated sentinels, e.g. redis://10.0.0.1:26379,redis://10.0.0.2:26379',
    );
  }
  const entries = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (entries.length === 0) throw new RedisTargetError(`REDIS_URL: no ${mode === 'cluster' ? 'seed node' : 'sentinel'} given`);
  const parsed = entries.map((e) => parseEntry(e, mode === 'cluster' ? DEFAULT_PORT : DEFAULT_SENTINEL_PORT));
  const access = commonAccess(parsed);
  // Like credentials, a database number may be given on one entry or on all (alike).
  const dbs = new Set(parsed.flatMap((p) => (p.db === undefined ? [] : [p.db])));
  if (dbs.size > 1) throw new RedisTargetError('REDIS_URL: the entries name different database numbers');
  const db = [...dbs][0] ?? 0;
  const nodes = parsed.map(({ host, port }) => ({ host, port }));

  if (mode === 'cluster') {
    if (db !== 0) throw new RedisTargetError(`REDIS_URL: Redis Cluster has only database 0 (got /${db})`);
    const prefix = env.SECRET_SVC_REDIS_PREFIX ?? '';
    if (/[{}]/.test(prefix)) {
      // Every key carries the hash tag {s}; a brace in the prefix could replace that tag and
      // scatter one deployment's keys over several slots, breaking the atomic scripts.
      throw new RedisTargetError('SECRET_SVC_REDIS_PREFIX must not contain "{" or "}" with REDIS_MODE=cluster');
    }
    return { mode, nodes, ...access };
  }
  const masterName = env.REDIS_SENTINEL_MASTER;
  if (masterName === undefined) {
    throw new RedisTargetError('REDIS_SENTINEL_MASTER is required with REDIS_MODE=sentinel: the master name the sentinels monitor (e.g. mymaster)');
  }
  if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(masterName)) {
    throw new RedisTargetError('REDIS_SENTINEL_MASTER: a master name is 1 to 128 characters of [A-Za-z0-9_.:-]');
  }
  return { mode, sentinels: nodes, masterName, sentinelPassword: env.REDIS_SENTINEL_PASSWORD, db, ...access };
}

function standalone(url: string): RedisTarget {
  if (url.includes(',')) {
    throw new RedisTargetError('REDIS_URL lists several servers: set REDIS_MODE=cluster (seed nodes) or REDIS_MODE=sentinel (sentinels)');
  }
  return { mode: 'standalone', url };
}

interface Entry extends RedisNode, NodeAccess {
  db: number | undefined;
}

/** One list entry: `redis://[user:password@]host[:port][/db]`, `rediss://…` (TLS), or a bare `host[:port]`. */
function parseEntry(entry: string, defaultPort: number): Entry {
  // Never echo the entry: it may hold a password.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(entry) ? entry : `redis://${entry}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new RedisTargetError('REDIS_URL: an entry is not a valid host:port or redis:// URL');
  }
  const where = u.hostname ? ` (${u.hostname}${u.port ? `:${u.port}` : ''})` : '';
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new RedisTargetError(`REDIS_URL: entry${where} must use redis:// or rediss://`);
  }
  if (!u.hostname) throw new RedisTargetError('REDIS_URL: an entry has no host');
  if (u.search || u.hash) throw new RedisTargetError(`REDIS_URL: entry${where} has URL options (?…), which are not supported with several servers`);
  const path = u.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d{1,4}$/.test(path)) throw new RedisTargetError(`REDIS_URL: entry${where} has a path that is not a database number`);
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port ? Number(u.port) : defaultPort,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    tls: u.protocol === 'rediss:',
    db: path === '' ? undefined : Number(path),
  };
}

/** Entries that carry credentials must agree; so must their schemes (TLS for all or none). */
function commonAccess(entries: Entry[]): NodeAccess {
  if (new Set(entries.map((e) => e.tls)).size > 1) {
    throw new RedisTargetError('REDIS_URL: mixes redis:// and rediss:// entries; use one scheme for all');
  }
  const withAuth = entries.filter((e) => e.username !== undefined || e.password !== undefined);
  const first = withAuth[0];
  if (withAuth.some((e) => e.username !== first?.username || e.password !== first?.password)) {
    throw new RedisTargetError('REDIS_URL: entries carry different credentials; give the same user and password on every entry (or on one)');
  }
  return { username: first?.username, password: first?.password, tls: entries[0]!.tls };
}

/** The target for logs: hosts and mode, never a password. */
export function describeRedisTarget(t: RedisTarget): string {
  if (t.mode === 'standalone') return redactPassword(t.url);
  const list = (nodes: RedisNode[]) => nodes.map((n) => `${n.host.includes(':') ? `[${n.host}]` : n.host}:${n.port}`).join(',');
  const scheme = t.tls ? 'rediss' : 'redis';
  return t.mode === 'cluster'
    ? `cluster ${scheme}://${list(t.nodes)}`
    : `sentinel ${scheme}://${list(t.sentinels)} master ${t.masterName}${t.db ? ` db ${t.db}` : ''}`;
}

function redactPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
