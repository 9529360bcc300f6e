/**
 * `secret-svc dev` as a child process. It never touches the machine's default NATS/Redis here:
 * either --start-servers (its own nats-server/redis-server on free ports) or the test's servers.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildEnvelope, generateSessionKeyPair, issueCredential, parseCredential, parsePrivateJwk, privateKeyObject, publicKeyObject, requestHead,
  toBase64url, verifyHandshake, type CredentialClaims, type SessionReply,
} from '@secret-svc/protocol';
import { devKeyring } from '../../src/cli/dev/keyring.js';
import { DEV_CREDENTIAL_TTL_SECONDS, devState } from '../../src/cli/dev/state.js';
import { NatsServer, RedisServer } from '../helpers/servers.js';
import { cli, startCli, type LiveCli } from './run-cli.js';

const SLOW = 150_000;
const BANNER_END = /works too\.\)\n/;
let dir: string;
const live: LiveCli[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'secret-svc-dev-'));
});

afterAll(async () => {
  // A dev stopped by SIGTERM stops the servers it started.
  await Promise.all(live.map((p) => p.stop('SIGTERM')));
  rmSync(dir, { recursive: true, force: true });
});

function dev(args: string[], env: Record<string, string> = {}): LiveCli {
  const p = startCli(['dev', ...args], { env });
  live.push(p);
  return p;
}

/** The `export NAME=value` lines of the banner. */
function exportsOf(banner: string): Record<string, string> {
  return Object.fromEntries([...banner.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
}

function portOpen(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect(Number(new URL(url).port), '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

describe('secret-svc dev', () => {
  it('starts its own servers, prints what it promises, and a second run reuses keys and data', { timeout: SLOW }, async () => {
    const home = join(dir, 'own');
    const first = dev(['--dir', home, '--start-servers']);
    await first.waitFor(BANNER_END);
    const banner = first.stdout();
    const env = exportsOf(banner);
    expect(Object.keys(env).sort()).toEqual(['NATS_URL', 'SECRET_SVC_CREDENTIAL_FILE', 'SECRET_SVC_KEY_FILE', 'SECRET_SVC_SERVICE_PUBLIC_KEY']);
    expect(env.NATS_URL).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    expect(env.NATS_URL).not.toBe('nats://127.0.0.1:4222');
    expect(banner).toMatch(/nats-server started here/);
    expect(banner).toMatch(/redis-server started here/);
    // Its Redis is bounded in memory like deploy/redis.conf: no eviction, and no unbounded reply buffers.
    const redis = new Redis(/Redis +(redis:\/\/\S+)/.exec(banner)![1]!);
    try {
      expect(await redis.call('CONFIG', 'GET', 'maxmemory')).toEqual(['maxmemory', String(512 * 2 ** 20)]);
      expect(await redis.call('CONFIG', 'GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
      expect(((await redis.call('CONFIG', 'GET', 'client-output-buffer-limit')) as string[])[1]).toContain(`normal ${256 * 2 ** 20} ${64 * 2 ** 20} 60`);
    } finally {
      redis.disconnect();
    }
    expect(banner).toMatch(/keys +created in /);
    expect(banner).toMatch(/admin credential valid until \d{4}-\d\d-\d\dT\S+Z; each start renews it when under 7 days are left/);
    // Three example commands: the CLI (store, read) and nats req.
    expect(banner).toMatch(/^echo .* \| npx secret-svc set demo\/GREETING$/m);
    expect(banner).toMatch(/^npx secret-svc get demo\/GREETING$/m);
    expect(banner).toMatch(/^nats req secret\.read "\$\(npx secret-svc sign read .*\)"$/m);
    // Its own Redis keeps data on disk: the worker does not warn.
    expect(first.stderr()).toMatch(/worker serving/);
    expect(first.stderr()).not.toMatch(/NOTHING ON DISK/);
    for (const f of ['issuer.jwk', 'admin.jwk', 'admin.cred', 'encryption.key', 'service.jwk']) {
      expect(statSync(join(home, f)).mode & 0o777, f).toBe(0o600);
    }
    const issuerLine = /public key (\S+)\)/.exec(banner)?.[1];
    expect(issuerLine).toBeTruthy();

    // Following the printed lines works: the CLI stores and reads, a signed envelope over NATS reads.
    const set = await cli(['set', 'demo/GREETING'], { env, input: 'hello, world\n' });
    expect(set.code, set.stderr).toBe(0);
    const [get, signed] = await Promise.all([
      cli(['get', 'demo/GREETING'], { env }),
      cli(['sign', 'read', '{"key":"demo/GREETING"}'], { env }),
    ]);
    expect(get.stdout, get.stderr).toBe('hello, world\n');
    const nc = await connect({ servers: env.NATS_URL });
    try {
      const reply = await nc.request('secret.read', new TextEncoder().encode(signed.stdout), { timeout: 5000 });
      expect(JSON.parse(new TextDecoder().decode(reply.data))).toMatchObject({ key: 'demo/GREETING', value: 'hello, world', createdBy: 'admin' });
      // The worker signs session handshakes with the service key whose public key the banner exports.
      const own = generateSessionKeyPair();
      const admin = parsePrivateJwk(JSON.parse(readFileSync(join(home, 'admin.jwk'), 'utf8')));
      const body = buildEnvelope(readFileSync(join(home, 'admin.cred'), 'utf8').trim(), privateKeyObject(admin),
        { ...requestHead('session', 'secret-svc'), epk: toBase64url(own.publicKey) }, 'json');
      const hello = JSON.parse(new TextDecoder().decode((await nc.request('secret.session', body, { timeout: 5000 })).data)) as SessionReply;
      expect(verifyHandshake(publicKeyObject(env.SECRET_SVC_SERVICE_PUBLIC_KEY!), own.publicKey, hello)).toBe(true);
    } finally {
      await nc.close();
    }

    expect(await first.stop('SIGTERM')).toBe(0);
    expect(await portOpen(env.NATS_URL!)).toBe(false); // the servers it started are gone

    const second = dev(['--dir', home, '--start-servers']);
    await second.waitFor(BANNER_END);
    const env2 = exportsOf(second.stdout());
    expect(second.stdout()).toMatch(/keys +reused from /);
    expect(/public key (\S+)\)/.exec(second.stdout())?.[1]).toBe(issuerLine);
    expect(env2.SECRET_SVC_CREDENTIAL_FILE).toBe(env.SECRET_SVC_CREDENTIAL_FILE);
    const again = await cli(['get', 'demo/GREETING'], { env: env2 });
    expect(again.stdout, again.stderr).toBe('hello, world\n'); // the data survived in its Redis
    expect(await second.stop('SIGTERM')).toBe(0);

    // A keyring that cannot open its own Redis's data: the hint names the ring file, and neither
    // --start-servers (given already) nor --redis-prefix (its own Redis holds only its data).
    writeFileSync(join(home, 'encryption.keys'), `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    const refused = await cli(['dev', '--dir', home, '--start-servers']);
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toMatch(/cannot open the data/);
    expect(refused.stderr).toContain('encryption.keys');
    expect(refused.stderr).not.toMatch(/--start-servers|--redis-prefix/);
    rmSync(join(home, 'encryption.keys'));
  });

  it('uses servers it is given, warns about a Redis without persistence, and refuses another dev service on its NATS', { timeout: SLOW }, async () => {
    const [nats, redis] = await Promise.all([NatsServer.start(), RedisServer.start()]);
    try {
      const home = join(dir, 'given');
      const first = dev(['--dir', home, '--nats-url', nats.url, '--redis-url', redis.url]);
      await first.waitFor(BANNER_END);
      expect(exportsOf(first.stdout()).NATS_URL).toBe(nats.url);
      expect(first.stdout()).not.toMatch(/started here/);
      expect(first.stderr()).toMatch(/REDIS KEEPS NOTHING ON DISK/); // the worker's startup warning

      // Another dev service (its own issuer) on the same subjects is refused; the hint fits the flags given.
      const other = await cli(['dev', '--dir', join(dir, 'given-other'), '--nats-url', nats.url, '--redis-url', redis.url, '--redis-prefix', 'other:']);
      expect(other.code).toBe(6);
      expect(other.stderr).toMatch(/a secret-svc worker that does not trust this dev issuer already answers on/);
      expect(other.stderr).toMatch(/give another --nats-url/);
      expect(other.stderr).not.toMatch(/--start-servers/);
      expect(await first.stop('SIGINT')).toBe(0);
    } finally {
      await nats.stop();
      await redis.cleanup();
    }
  });

  it('says what to install when it cannot find or start the servers', { timeout: SLOW }, async () => {
    const r = await cli(['dev', '--dir', join(dir, 'nothing'), '--start-servers'], { env: { PATH: '/nonexistent' } });
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/nats-server and redis-server not found on PATH/);
    expect(r.stderr).toContain('docker run -d --rm -p 127.0.0.1:4222:4222 nats:2.11-alpine -js');
    expect(r.stderr).toMatch(/apt-get install nats-server redis-server/);
    // Docker's servers on the default ports help only without --start-servers: the hint says so.
    expect(r.stderr).toMatch(/run this command without --start-servers/);
    expect(r.stderr).not.toMatch(/then run this command again/);
  });
});

describe('the dev admin credential expires and is renewed near its end', () => {
  const DAY_MS = 86_400_000;
  const t0 = Date.UTC(2026, 0, 1);
  const claimsIn = (home: string): CredentialClaims => {
    const parsed = parseCredential(readFileSync(join(home, 'admin.cred'), 'utf8').trim());
    if (typeof parsed === 'string') throw new Error(parsed);
    return parsed.claims;
  };

  it('is issued for 30 days with iat and a jti, kept while more than a week is left, renewed below that', () => {
    const home = join(dir, 'expiry');
    const first = devState(home, t0);
    const c1 = claimsIn(home);
    expect(c1).toMatchObject({ sub: 'admin', admin: true, iat: t0 / 1000, exp: t0 / 1000 + DEV_CREDENTIAL_TTL_SECONDS });
    expect(c1.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(first).toMatchObject({ credentialExpires: c1.exp, credentialRenewed: false });
    expect(first.created).toContain(first.credentialFile);

    const text = readFileSync(first.credentialFile, 'utf8');
    const kept = devState(home, t0 + 22 * DAY_MS); // 8 days left
    expect(readFileSync(first.credentialFile, 'utf8')).toBe(text);
    expect(kept).toMatchObject({ credentialExpires: c1.exp, credentialRenewed: false, created: [] });

    const renewedAt = t0 + 24 * DAY_MS; // 6 days left
    const renewed = devState(home, renewedAt);
    const c2 = claimsIn(home);
    expect(c2).toMatchObject({ sub: 'admin', admin: true, iss: c1.iss, cnf: c1.cnf, exp: renewedAt / 1000 + DEV_CREDENTIAL_TTL_SECONDS });
    expect(c2.jti).not.toBe(c1.jti);
    expect(renewed).toMatchObject({ credentialExpires: c2.exp, credentialRenewed: true });
    expect(renewed.created).toEqual([]); // keys reused: a renewal is not a new setup
    expect(statSync(renewed.credentialFile).mode & 0o777).toBe(0o600);

    const late = devState(home, t0 + 200 * DAY_MS); // long expired
    expect(late.credentialRenewed).toBe(true);
    expect(claimsIn(home).exp).toBe((t0 + 200 * DAY_MS) / 1000 + DEV_CREDENTIAL_TTL_SECONDS);
  });

  it('replaces a credential from before dev credentials expired (no exp)', () => {
    const home = join(dir, 'no-exp');
    const state = devState(home, t0);
    writeFileSync(state.credentialFile, `${issueCredential({
      issuerKey: privateKeyObject(state.issuer), issuer: state.issuer.x, slug: 'admin', admin: true,
      subjectKey: claimsIn(home).cnf.jwk.x, now: t0,
    })}\n`);
    expect(claimsIn(home).exp).toBeUndefined();
    const again = devState(home, t0 + DAY_MS);
    expect(again.credentialRenewed).toBe(true);
    expect(claimsIn(home).exp).toBe((t0 + DAY_MS) / 1000 + DEV_CREDENTIAL_TTL_SECONDS);
  });
});

describe('where dev takes its keyring from', () => {
  it('a keyring variable in its environment first, then DIR/encryption.keys, then DIR/encryption.key', () => {
    const state = devState(join(dir, 'ring'));
    const shown = (p: string) => p;
    expect(devKeyring(state, {}, shown)).toEqual({
      variable: 'SECRET_SVC_ENCRYPTION_KEY_FILE', value: state.encryptionKeyFile, source: state.encryptionKeyFile });
    writeFileSync(state.keyringFile, 'one key a line\n', { mode: 0o600 });
    expect(devKeyring(state, {}, shown)).toEqual({
      variable: 'SECRET_SVC_ENCRYPTION_KEYS_FILE', value: state.keyringFile, source: state.keyringFile });
    // An empty variable counts as unset, as for a worker.
    expect(devKeyring(state, { SECRET_SVC_ENCRYPTION_KEYS: '', SECRET_SVC_ENCRYPTION_KEY_COMMAND: 'vault read …' }, shown)).toEqual({
      variable: 'SECRET_SVC_ENCRYPTION_KEY_COMMAND', value: 'vault read …', source: 'SECRET_SVC_ENCRYPTION_KEY_COMMAND from the environment' });
  });
});
