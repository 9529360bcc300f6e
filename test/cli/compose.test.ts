/**
 * No Docker engine runs here, so docker-compose.yml and the Dockerfile are checked as text
 * against the worker's configuration schema: they cannot silently rot.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENV_NAMES } from '../../src/config.js';
import { ROOT } from '../helpers/process.js';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string> | string[];
  secrets?: Array<string | { source: string; target?: string }>;
  deploy?: { replicas?: number };
  ports?: string[];
}
interface Compose {
  services: Record<string, Service>;
  secrets?: Record<string, { file?: string }>;
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as Compose;
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const worker = compose.services.worker!;

function envOf(s: Service): Record<string, string> {
  if (Array.isArray(s.environment)) {
    return Object.fromEntries(s.environment.map((e) => [e.split('=')[0]!, e.slice(e.indexOf('=') + 1)]));
  }
  return s.environment ?? {};
}

/** Dockerfile instructions, continuation lines joined, comments dropped. */
const instructions = dockerfile.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

describe('docker-compose.yml', () => {
  it('gives the worker only environment names the configuration schema knows', () => {
    const names = Object.keys(envOf(worker));
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((n) => !ENV_NAMES.includes(n))).toEqual([]);
    expect(envOf(worker)).toMatchObject({ NATS_URL: 'nats://nats:4222', REDIS_URL: 'redis://redis:6379' });
    expect(names).toContain('SECRET_SVC_ISSUERS');
  });

  it('mounts the encryption key as a Docker secret file, never as an environment value', () => {
    const env = envOf(worker);
    expect(env).not.toHaveProperty('SECRET_SVC_ENCRYPTION_KEY');
    const refs = (worker.secrets ?? []).map((s) => (typeof s === 'string' ? { source: s, target: s } : { target: s.source, ...s }));
    const file = env.SECRET_SVC_ENCRYPTION_KEY_FILE;
    const ref = refs.find((r) => file === `/run/secrets/${r.target ?? r.source}` || file === r.target);
    expect(ref, `SECRET_SVC_ENCRYPTION_KEY_FILE=${file} must name a mounted secret`).toBeDefined();
    expect(compose.secrets?.[ref!.source]?.file).toBeTruthy();
  });

  it('runs two workers in the queue group, from the Dockerfile', () => {
    expect(worker.deploy?.replicas).toBe(2);
    expect(worker.build).toBeDefined();
    expect(worker.ports).toBeUndefined(); // replicas cannot share a host port; they need none
  });

  it('keeps Redis data on disk: AOF with appendfsync everysec', () => {
    const redis = compose.services.redis!;
    const command = Array.isArray(redis.command) ? redis.command.join(' ') : redis.command ?? '';
    expect(command).toMatch(/--appendonly yes\b/);
    expect(command).toMatch(/--appendfsync everysec\b/);
  });

  it('runs NATS with JetStream', () => {
    const nats = compose.services.nats!;
    expect(Array.isArray(nats.command) ? nats.command : [nats.command]).toContain('-js');
  });
});

describe('Dockerfile', () => {
  it('is multi-stage and installs only production dependencies in the final stage', () => {
    const froms = instructions.filter((l) => /^FROM\s/i.test(l));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const final = instructions.slice(instructions.lastIndexOf(froms.at(-1)!));
    expect(final.some((l) => /^RUN\s.*npm ci\b.*--omit=dev/.test(l))).toBe(true);
    expect(final.some((l) => /^COPY\s+--from=/.test(l))).toBe(true);
  });

  it('starts the worker with node itself as a non-root user', () => {
    const cmd = instructions.filter((l) => /^CMD\s/.test(l)).at(-1)!;
    expect(JSON.parse(cmd.replace(/^CMD\s+/, ''))).toEqual(['node', 'dist/src/main.js']);
    expect(existsSync(join(ROOT, 'src/main.ts'))).toBe(true); // what dist/src/main.js is built from
    const users = instructions.filter((l) => /^USER\s/.test(l));
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^USER\s+(root|0)(:|\s|$)/);
    expect(instructions.indexOf(users.at(-1)!)).toBeLessThan(instructions.indexOf(cmd));
  });

  it('copies only paths that exist', () => {
    const sources = instructions
      .filter((l) => /^COPY\s/.test(l) && !/--from=/.test(l))
      .flatMap((l) => l.replace(/^COPY\s+/, '').split(/\s+/).filter((w) => !w.startsWith('--')).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    expect(sources.filter((s) => !existsSync(join(ROOT, s)))).toEqual([]);
  });
});
