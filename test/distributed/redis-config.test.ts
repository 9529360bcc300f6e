/** REDIS_MODE and friends: how each mode reads REDIS_URL, and clear refusals naming the variable. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateJwk } from '@secret-svc/protocol';
import { ConfigError, ENV_NAMES, loadConfig } from '../../src/config.js';
import { describeRedisTarget } from '../../src/store/redis-target.js';

const base = { SECRET_SVC_ISSUERS: generateJwk().x, SECRET_SVC_ENCRYPTION_KEY: randomBytes(32).toString('base64') };

function refusal(env: Record<string, string>): string {
  try {
    loadConfig({ ...base, ...env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('REDIS_MODE', () => {
  it('names the new variables in ENV_NAMES', () => {
    for (const name of ['REDIS_MODE', 'REDIS_SENTINEL_MASTER', 'REDIS_SENTINEL_PASSWORD']) expect(ENV_NAMES).toContain(name);
  });

  it('defaults to one server at redis://127.0.0.1:6379', () => {
    const c = loadConfig(base);
    expect(c.redis).toEqual({ mode: 'standalone', url: 'redis://127.0.0.1:6379' });
    expect(loadConfig({ ...base, REDIS_MODE: 'standalone', REDIS_URL: 'redis://:pw@db:6380/2' }).redis)
      .toEqual({ mode: 'standalone', url: 'redis://:pw@db:6380/2' });
  });

  it('cluster: REDIS_URL lists seed nodes (scheme and port optional), credentials shared', () => {
    const c = loadConfig({ ...base, REDIS_MODE: 'cluster', REDIS_URL: 'redis://u:p%40ss@10.0.0.1:7000, 10.0.0.2 ,redis://[::1]:7002' });
    expect(c.redis).toEqual({
      mode: 'cluster', username: 'u', password: 'p@ss', tls: false,
      nodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 6379 }, { host: '::1', port: 7002 }],
    });
    expect(describeRedisTarget(c.redis)).toBe('cluster redis://10.0.0.1:7000,10.0.0.2:6379,[::1]:7002');
    expect(loadConfig({ ...base, REDIS_MODE: 'cluster', REDIS_URL: 'rediss://a:7000,rediss://b:7001' }).redis).toMatchObject({ tls: true });
  });

  it('sentinel: REDIS_URL lists sentinels (default port 26379), master name required', () => {
    const c = loadConfig({
      ...base, REDIS_MODE: 'sentinel', REDIS_URL: 'redis://:masterpw@s1/3,s2:26380', REDIS_SENTINEL_MASTER: 'mymaster',
      REDIS_SENTINEL_PASSWORD: 'sentinelpw',
    });
    expect(c.redis).toEqual({
      mode: 'sentinel', masterName: 'mymaster', sentinelPassword: 'sentinelpw', db: 3, username: undefined, password: 'masterpw', tls: false,
      sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26380 }],
    });
    const text = describeRedisTarget(c.redis);
    expect(text).toBe('sentinel redis://s1:26379,s2:26380 master mymaster db 3');
    expect(text).not.toContain('pw');
  });

  it.each([
    ['an unknown mode', { REDIS_MODE: 'sharded' }, 'REDIS_MODE'],
    ['several URLs without a mode', { REDIS_URL: 'redis://a:1,redis://b:2' }, 'REDIS_MODE=cluster'],
    ['cluster without REDIS_URL', { REDIS_MODE: 'cluster' }, 'REDIS_URL is required with REDIS_MODE=cluster'],
    ['sentinel without REDIS_URL', { REDIS_MODE: 'sentinel', REDIS_SENTINEL_MASTER: 'm' }, 'REDIS_URL is required with REDIS_MODE=sentinel'],
    ['sentinel without a master name', { REDIS_MODE: 'sentinel', REDIS_URL: 's1:26379' }, 'REDIS_SENTINEL_MASTER is required'],
    ['a bad master name', { REDIS_MODE: 'sentinel', REDIS_URL: 's1', REDIS_SENTINEL_MASTER: 'my master' }, 'REDIS_SENTINEL_MASTER'],
    ['a master name outside sentinel mode', { REDIS_SENTINEL_MASTER: 'm' }, 'REDIS_SENTINEL_MASTER is only used with REDIS_MODE=sentinel'],
    ['a sentinel password outside sentinel mode', { REDIS_MODE: 'cluster', REDIS_URL: 'a:1', REDIS_SENTINEL_PASSWORD: 'x' }, 'REDIS_SENTINEL_PASSWORD'],
    ['a database other than 0 in a cluster', { REDIS_MODE: 'cluster', REDIS_URL: 'redis://a:1/2' }, 'database 0'],
    ['mixed schemes', { REDIS_MODE: 'cluster', REDIS_URL: 'redis://a:1,rediss://b:2' }, 'rediss://'],
    ['different credentials', { REDIS_MODE: 'cluster', REDIS_URL: 'redis://:one@a:1,redis://:two@b:2' }, 'different credentials'],
    ['a non-redis scheme', { REDIS_MODE: 'cluster', REDIS_URL: 'http://a:1' }, 'redis://'],
    ['URL options', { REDIS_MODE: 'cluster', REDIS_URL: 'redis://a:1?tls=true' }, 'not supported'],
    ['a bad port', { REDIS_MODE: 'cluster', REDIS_URL: 'a:99999' }, 'REDIS_URL'],
    ['a brace in the prefix of a cluster deployment', { REDIS_MODE: 'cluster', REDIS_URL: 'a:1', SECRET_SVC_REDIS_PREFIX: 'x{y}:' }, 'SECRET_SVC_REDIS_PREFIX'],
  ])('refuses %s, saying what to fix', (_label, env, expected) => {
    expect(refusal(env as Record<string, string>)).toContain(expected);
  });

  it('never echoes a password from REDIS_URL in a refusal', () => {
    const message = refusal({ REDIS_MODE: 'cluster', REDIS_URL: 'redis://:hunter2secret@a:1/5' });
    expect(message).not.toContain('hunter2secret');
    expect(refusal({ REDIS_MODE: 'cluster', REDIS_URL: 'redis://:hunter2secret@a:99999' })).not.toContain('hunter2secret');
  });
});
