/**
 * No Docker engine runs here, so docker-compose.yml, the Dockerfile and deploy/ are checked as
 * text against the worker's configuration schema (and nats-server checks its configuration);
 * test/deploy/compose.test.ts runs the compose services as local processes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_NAMES } from '../../src/config.js';
import { ROOT } from '../helpers/process.js';
import { commandOf as commandArgs, composeText as readComposeText, envOf, mountedFiles, readCompose } from '../deploy/compose-file.js';

const composeText = readComposeText();
const compose = readCompose();
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const natsConf = readFileSync(join(ROOT, 'deploy/nats.conf'), 'utf8');
const redisConf = readFileSync(join(ROOT, 'deploy/redis.conf'), 'utf8');
const worker = compose.services.worker!;
const nats = compose.services.nats!;
const redis = compose.services.redis!;

const commandOf = (s: Parameters<typeof commandArgs>[0]) => commandArgs(s).join(' ');

/** Dockerfile instructions, continuation lines joined, comments dropped. */
const instructions = dockerfile.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

describe('docker-compose.yml', () => {
  it('gives the worker only environment names the configuration schema knows', () => {
    const names = Object.keys(envOf(worker));
    expect(names.filter((n) => !ENV_NAMES.includes(n))).toEqual([]);
    expect(envOf(worker)).toMatchObject({ NATS_URL: 'nats://nats:4222', NATS_USER: 'secret-svc-worker', NATS_INBOX_PREFIX: '_INBOX_secret-svc-worker' });
    expect(envOf(worker).REDIS_URL).toMatch(/^redis:\/\/:\$\{REDIS_PASSWORD:\?[^}]+\}@redis:6379$/);
  });

  it('requires its secrets and settings with ${VAR:?message} instead of defaulting them to empty', () => {
    expect(composeText).not.toMatch(/\$\{[A-Z_]+:-\}/);
    const required = ['SECRET_SVC_ISSUERS', 'NATS_WORKER_PASSWORD', 'NATS_ADMIN_PASSWORD', 'REDIS_PASSWORD', 'SECRET_SVC_UID', 'SECRET_SVC_GID'];
    for (const name of required) expect(composeText, name).toMatch(new RegExp(`\\$\\{${name}:\\?[^}]+\\}`));
    expect(envOf(worker).SECRET_SVC_ISSUERS).toMatch(/^\$\{SECRET_SVC_ISSUERS:\?.+\}$/);
  });

  it('mounts the encryption key and the service key as Docker secret files and runs the worker as their owner', () => {
    const env = envOf(worker);
    expect(env).not.toHaveProperty('SECRET_SVC_ENCRYPTION_KEY');
    const refs = (worker.secrets ?? []).map((s) => (typeof s === 'string' ? { source: s, target: s } : { target: s.source, ...s }));
    for (const name of ['SECRET_SVC_ENCRYPTION_KEY_FILE', 'SECRET_SVC_SERVICE_KEY']) {
      const file = env[name];
      const ref = refs.find((r) => file === `/run/secrets/${r.target ?? r.source}` || file === r.target);
      expect(ref, `${name}=${file} must name a mounted secret`).toBeDefined();
      expect(compose.secrets?.[ref!.source]?.file).toBeTruthy();
    }
    // By default the files `dev` made.
    expect(Object.values(compose.secrets ?? {}).map((s) => s.file)).toEqual([
      '${SECRET_SVC_ENCRYPTION_KEY_HOST_FILE:-./.secret-svc/encryption.key}', '${SECRET_SVC_SERVICE_KEY_HOST_FILE:-./.secret-svc/service.jwk}',
    ]);
    // Plain compose keeps the host file's owner and mode: the worker runs as that uid:gid.
    expect(worker.user).toMatch(/^\$\{SECRET_SVC_UID:\?[^}]+\}:\$\{SECRET_SVC_GID:\?[^}]+\}$/);
  });

  it('runs two workers in the queue group, from the Dockerfile, after NATS and Redis are healthy', () => {
    expect(worker.deploy?.replicas).toBe(2);
    expect(worker.build).toBeDefined();
    expect(worker.ports).toBeUndefined(); // replicas cannot share a host port; they need none
    expect(worker.depends_on).toEqual({ nats: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    for (const s of [nats, redis, worker]) expect(s.healthcheck?.test).toBeDefined();
    expect(worker.healthcheck!.test).toEqual(['CMD', 'node', 'deploy/worker-healthcheck.mjs']);
    expect(existsSync(join(ROOT, 'deploy/worker-healthcheck.mjs'))).toBe(true);
    expect(instructions).toContain('COPY deploy/worker-healthcheck.mjs deploy/');
  });

  it('runs Redis with a password that is on no command line, AOF every second, noeviction and bounded memory', () => {
    expect(commandOf(redis)).not.toMatch(/requirepass|PASSWORD/);
    expect(commandArgs(redis)).toEqual(['sh', '/usr/local/etc/redis/redis-start.sh', 'docker-entrypoint.sh', 'redis-server', '/usr/local/etc/redis/redis.conf']);
    expect(envOf(redis).REDIS_PASSWORD).toMatch(/^\$\{REDIS_PASSWORD:\?/);
    expect(mountedFiles(redis)).toEqual(['./deploy/redis.conf', './deploy/redis-start.sh']);
    const conf = redisConf.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(conf).toEqual(expect.arrayContaining([
      'appendonly yes', 'appendfsync everysec', 'maxmemory-policy noeviction', 'maxmemory 1gb', 'client-output-buffer-limit normal 256mb 64mb 60',
    ]));
    expect(conf.some((l) => l.startsWith('requirepass'))).toBe(false);
    expect(redis.volumes).toContain('redis-data:/data');
  });

  it('refuses a Redis password that would not fit the workers\' REDIS_URL, and names the variable', () => {
    const start = (password: string | undefined) => spawnSync('sh', [join(ROOT, 'deploy/redis-start.sh'), 'true'], {
      env: { PATH: process.env.PATH ?? '', ...(password === undefined ? {} : { REDIS_PASSWORD: password }) }, encoding: 'utf8',
    });
    expect(start(undefined).stderr).toContain('REDIS_PASSWORD is not set');
    const bad = start('p@ss:word');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('REDIS_PASSWORD may hold only');
    expect(start('0123abcd-._~').status).toBe(0);
  });

  it('runs NATS from deploy/nats.conf with JetStream on a volume', () => {
    expect(mountedFiles(nats)).toEqual(['./deploy/nats.conf']);
    expect(commandOf(nats)).toBe('-c /etc/nats/nats.conf -sd /data/jetstream');
    expect(natsConf).toMatch(/^jetstream: enabled$/m);
    expect(nats.volumes).toContain('nats-data:/data');
    expect(Object.keys(compose.volumes ?? {})).toEqual(expect.arrayContaining(['nats-data', 'redis-data']));
    // Every password the configuration refers to is given to the nats container.
    const refs = [...natsConf.matchAll(/password:\s*\$([A-Z_]+)/g)].map((m) => m[1]!);
    expect(refs.sort()).toEqual(Object.keys(envOf(nats)).sort());
  });
});

describe('deploy/nats.conf', () => {
  const passwords = { NATS_WORKER_PASSWORD: 'w', NATS_ADMIN_PASSWORD: 'a', NATS_DEPLOY_SVC_PASSWORD: 'd' };
  const check = (env: Record<string, string>) =>
    spawnSync('nats-server', ['-c', join(ROOT, 'deploy/nats.conf'), '-t'], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });

  it('is a configuration nats-server accepts, and refuses without the passwords', () => {
    const ok = check(passwords);
    expect(ok.status, ok.stderr).toBe(0);
    const missing = check({});
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('NATS_WORKER_PASSWORD');
  });

  it('gives the users of SECURITY.md their permissions: only workers subscribe to secret.> and publish audit events', () => {
    const users = natsConf.split(/\n\s*\{\s*\n\s*user:\s*/).slice(1).map((block) => {
      const name = block.split('\n')[0]!.trim();
      const list = (kind: string, rule: string) => {
        const m = new RegExp(`${kind}:\\s*\\{[^}]*${rule}:\\s*\\[([^\\]]*)\\]`).exec(block);
        return m ? m[1]!.split(',').map((s) => s.trim().replace(/^"|"$/g, '')).filter(Boolean) : [];
      };
      return { name, subAllow: list('subscribe', 'allow'), pubAllow: list('publish', 'allow'), pubDeny: list('publish', 'deny'), responses: /allow_responses:\s*true/.test(block) };
    });
    expect(users.map((u) => u.name)).toEqual(['secret-svc-worker', 'secret-svc-admin', 'deploy-svc']);
    const [workerUser, admin, service] = users as [typeof users[0], typeof users[0], typeof users[0]];
    expect(workerUser.subAllow).toEqual(expect.arrayContaining(['secret.>', '$SRV.>']));
    expect(workerUser.pubAllow).toContain('secret.audit.>');
    // Replies only to the users' inboxes, never to any reply subject a request names.
    expect(workerUser.responses).toBe(false);
    expect(workerUser.pubAllow).toEqual(expect.arrayContaining(users.map((u) => `_INBOX_${u.name}.>`)));
    for (const u of users) {
      expect(u.pubAllow.filter((p) => p.startsWith('$JS.') && !p.endsWith('.SECRET_SVC_AUDIT') && !p.includes('.SECRET_SVC_AUDIT.') && p !== '$JS.API.INFO')).toEqual([]);
      expect(u.pubAllow.filter((p) => /PURGE|DELETE\.SECRET_SVC_AUDIT$|MSG\.DELETE/.test(p))).toEqual([]);
    }
    expect(service.pubAllow.filter((p) => p.startsWith('$JS.'))).toEqual([]);
    expect(admin.pubAllow.filter((p) => /STREAM\.(CREATE|UPDATE)/.test(p))).toEqual([]);
    for (const u of [admin, service]) {
      expect(u.subAllow).toEqual([`_INBOX_${u.name}.>`]); // own inbox only: no _INBOX.>, no secret.>
      expect(u.pubAllow).toContain('secret.>');
      expect(u.pubDeny).toContain('secret.audit.>');
    }
  });
});

describe('Dockerfile', () => {
  it('is multi-stage on the current Node LTS and installs only production dependencies in the final stage', () => {
    const froms = instructions.filter((l) => /^FROM\s/i.test(l));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const f of froms) expect(f).toMatch(/^FROM node:26-/);
    const final = instructions.slice(instructions.lastIndexOf(froms.at(-1)!));
    expect(final.some((l) => /^RUN\s.*npm ci\b.*--omit=dev/.test(l))).toBe(true);
    expect(final.some((l) => /^COPY\s+--from=/.test(l))).toBe(true);
  });

  it('starts the worker with node itself as a non-root user', () => {
    const cmd = instructions.filter((l) => /^CMD\s/.test(l)).at(-1)!;
    expect(JSON.parse(cmd.replace(/^CMD\s+/, ''))).toEqual(['node', 'dist/src/main.js']);
    expect(existsSync(join(ROOT, 'src/main.ts'))).toBe(true);
    const users = instructions.filter((l) => /^USER\s/.test(l));
    expect(users.at(-1)).not.toMatch(/^USER\s+(root|0)(:|\s|$)/);
    expect(instructions.indexOf(users.at(-1)!)).toBeLessThan(instructions.indexOf(cmd));
  });

  it('copies only paths that exist, every workspace package included, and never the keys', () => {
    const sources = instructions
      .filter((l) => /^COPY\s/.test(l) && !/--from=/.test(l))
      .flatMap((l) => l.replace(/^COPY\s+/, '').split(/\s+/).filter((w) => !w.startsWith('--')).slice(0, -1));
    expect(sources.filter((s) => !existsSync(join(ROOT, s)))).toEqual([]);
    const workspaces = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
    for (const ws of workspaces) expect(sources).toContain(`${ws}/package.json`);
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['.secret-svc', 'node_modules']));
  });
});

describe('package.json', () => {
  it('declares the Node versions the tests run on and the image uses', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    const min = /^>=(\d+)\.(\d+)/.exec(pkg.engines.node)!;
    expect(major > Number(min[1]) || (major === Number(min[1]) && minor >= Number(min[2]))).toBe(true);
  });
});
