/**
 * The CLI's session flags: sessions by default through the client, `--no-sessions`,
 * `--service-public-key` / SECRET_SVC_SERVICE_PUBLIC_KEY (pinned: never falls back), and a bad
 * key as a usage error naming its setting. A stand-in on `probe.>` records what the CLI sends
 * and answers every request "unknown op" (as a worker without sessions would the handshake).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeBody, generateJwk, sniffEncoding } from '@secret-svc/protocol';
import type { Subscription } from 'nats';
import type { Stack } from '../helpers/stack.js';
import { callerEnv, useStack } from './callers.js';
import { cliIn } from './run-cli.js';

const stackOf = useStack();
let stack: Stack;
let probe: Subscription;
let seen: string[];
const service = generateJwk();

beforeEach(() => {
  stack = stackOf();
  seen = [];
  probe = stack.nc.subscribe('probe.>', {
    callback: (_err, msg) => {
      seen.push(msg.subject);
      msg.respond(encodeBody({ error: { status: 400, code: 'bad_request', message: 'unknown op' } }, sniffEncoding(msg.data)));
    },
  });
});
afterEach(() => probe.unsubscribe());

const whoami = (flags: string[], env: Record<string, string> = {}) =>
  cliIn([...flags, '--subject-prefix', 'probe', 'whoami'], { env: { ...callerEnv(stack, 'flags-svc'), ...env } });

describe('CLI sessions', () => {
  it('opens a session by default, and falls back to a signed request when the service does not offer one', async () => {
    const r = await whoami([]);
    expect(seen).toEqual(['probe.session', 'probe.whoami']);
    expect(r.stderr).toMatch(/unknown op/);
  });

  it('--no-sessions sends the request signed, without a handshake', async () => {
    await whoami(['--no-sessions']);
    expect(seen).toEqual(['probe.whoami']);
  });

  it('--service-public-key pins the key: a refused handshake is an error, never a fallback', async () => {
    const r = await whoami(['--service-public-key', service.x]);
    expect(seen).toEqual(['probe.session']);
    expect(r.code).not.toBe(0);
  });

  it('SECRET_SVC_SERVICE_PUBLIC_KEY pins it as well; the flag wins over it', async () => {
    await whoami([], { SECRET_SVC_SERVICE_PUBLIC_KEY: service.x });
    expect(seen).toEqual(['probe.session']);
    const bad = await whoami(['--service-public-key', service.x], { SECRET_SVC_SERVICE_PUBLIC_KEY: 'nope' });
    expect(bad.stderr).not.toMatch(/SECRET_SVC_SERVICE_PUBLIC_KEY/);
  });

  it('a service key that is not an Ed25519 public key is a usage error naming its setting', async () => {
    const flag = await whoami(['--service-public-key', 'not-a-key']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--service-public-key: not a usable Ed25519 public key/);
    const env = await whoami([], { SECRET_SVC_SERVICE_PUBLIC_KEY: 'AAAA' });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/SECRET_SVC_SERVICE_PUBLIC_KEY: not a usable Ed25519 public key/);
    expect(seen).toEqual([]);
  });

  it('lists the flags and the variable in --help', async () => {
    const help = await cliIn(['--help']);
    expect(help.stdout).toMatch(/--no-sessions/);
    expect(help.stdout).toMatch(/--service-public-key <key>/);
    expect(help.stdout).toMatch(/SECRET_SVC_SERVICE_PUBLIC_KEY/);
  });

  it('set and get go over a session against the real worker, the value never on the bus', async () => {
    const env = callerEnv(stack, 'daily-svc');
    const bus: { subject: string; data: Buffer }[] = [];
    const watcher = stack.nc.subscribe('>', { callback: (_err, msg) => bus.push({ subject: msg.subject, data: Buffer.from(msg.data) }) });
    expect((await cliIn(['set', 'daily-svc/TOKEN'], { env, input: 'v-1-c0ffee' })).code).toBe(0);
    const got = await cliIn(['get', 'daily-svc/TOKEN'], { env });
    await stack.nc.flush();
    watcher.unsubscribe();
    expect(got.stdout.trimEnd()).toBe('v-1-c0ffee');
    expect(bus.filter((m) => m.subject === 'secret.session')).toHaveLength(2); // one handshake per CLI run
    expect(bus.some((m) => m.data.includes(Buffer.from('v-1-c0ffee')))).toBe(false);
  });

  it('`sign` still prints a signed envelope for nats req, whatever the session settings', async () => {
    const r = await cliIn(['--service-public-key', service.x, 'sign', 'whoami'], { env: callerEnv(stack, 'sign-svc') });
    expect(r.code).toBe(0);
    expect(Object.keys(JSON.parse(r.stdout) as object).sort()).toEqual(['cred', 'payload', 'sig']);
  });
});
