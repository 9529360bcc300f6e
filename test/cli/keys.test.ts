/** `secret-svc keys generate`, and a worker process refusing to start on a failed key command (§13). */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateJwk } from '@secret-svc/protocol';
import { spawnWorker } from '../helpers/process.js';
import { cli } from './run-cli.js';

/** Each run is a fresh Node process (about a second, more on a busy machine). */
const SLOW = 60_000;

describe('secret-svc keys generate', () => {
  it('prints a new key, base64 of 32 random bytes, and nothing else', { timeout: SLOW }, async () => {
    const [one, two] = await Promise.all([cli(['keys', 'generate']), cli(['keys', 'generate'])]);
    for (const r of [one, two]) {
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
      expect(Buffer.from(r.stdout.trim(), 'base64').length).toBe(32);
      expect(r.stderr).toBe(''); // stdout is not a terminal: no hint
    }
    expect(one.stdout).not.toBe(two.stdout);
  });

  it('is listed under `secret-svc keys --help`', { timeout: SLOW }, async () => {
    const r = await cli(['keys', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/generate\s+print a new encryption key/);
  });
});

describe('keys status / rewrap without an explicit Redis and keyring', () => {
  // Nothing may answer on the default redis://127.0.0.1:6379 for this to mean anything: the
  // refusal comes before any connection, so a Redis there is never read or written.
  const KEY = randomBytes(32).toString('base64');
  it.each([
    ['status', 'neither', {}, ['REDIS_URL', 'a keyring']],
    ['rewrap', 'a keyring only', { SECRET_SVC_ENCRYPTION_KEYS: KEY }, ['REDIS_URL']],
    ['rewrap', 'REDIS_URL only', { REDIS_URL: 'redis://127.0.0.1:1' }, ['a keyring (one of SECRET_SVC_ENCRYPTION_KEY, ']],
  ] as const)('keys %s with %s refuses (exit 2), naming what is missing', { timeout: SLOW }, async (sub, _given, env, named) => {
    const r = await cli(['keys', sub], { env });
    expect(r.code, r.stderr).toBe(2);
    for (const n of named) expect(r.stderr).toContain(`${n}`);
    expect(r.stderr).toContain('secret-svc dev --print-worker-env');
    expect(r.stderr).not.toMatch(/cannot reach Redis/);
  });
});

describe('a worker whose SECRET_SVC_ENCRYPTION_KEY_COMMAND fails', () => {
  // Refused before any connection: no NATS or Redis needed (the URLs point nowhere).
  const env = (command: string) => ({
    NATS_URL: 'nats://127.0.0.1:1',
    REDIS_URL: 'redis://127.0.0.1:1',
    SECRET_SVC_ISSUERS: generateJwk().x,
    SECRET_SVC_ENCRYPTION_KEY_COMMAND: command,
  });

  it('exits with the command\'s status and the byte count of its standard error, never its output or its errors', { timeout: SLOW }, async () => {
    const key = randomBytes(32).toString('base64');
    const echoed = randomBytes(32).toString('base64');
    const w = await spawnWorker(env(`echo ${key}; echo ${echoed} >&2; echo 'secret manager: token expired' >&2; exit 42`));
    expect(await w.exited).toBe(42);
    expect(w.output()).toContain('SECRET_SVC_ENCRYPTION_KEY_COMMAND: the command exited with status 42 (75 bytes on standard error, not shown');
    expect(w.output()).not.toContain(key);
    expect(w.output()).not.toContain(echoed);
    expect(w.output()).not.toContain('token expired');
    expect(w.output()).not.toMatch(/worker serving/);
  });

  it('refuses a command that prints no key (exit 2, naming the variable)', { timeout: SLOW }, async () => {
    const w = await spawnWorker(env('true'));
    expect(await w.exited).toBe(2);
    expect(w.output()).toContain('SECRET_SVC_ENCRYPTION_KEY_COMMAND: the command printed no key');
  });
});
