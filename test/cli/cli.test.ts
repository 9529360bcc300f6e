/**
 * The `secret-svc` CLI against a real worker, NATS and Redis. Most cases run the CLI in this
 * process through its entry function (cheap, so the file holds on a loaded machine); one smoke
 * test runs the real bin as a child process. Each test makes its own callers and keys.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { TestIssuer } from '../helpers/identities.js';
import { freePort } from '../helpers/servers.js';
import type { Stack } from '../helpers/stack.js';
import { startTestWorker, testEnv } from '../helpers/worker.js';
import { callerEnv, tempDir, useStack } from './callers.js';
import { cli, cliIn } from './run-cli.js';

const stackOf = useStack();
let stack: Stack;
beforeEach(() => { stack = stackOf(); });
const mode = (path: string) => statSync(path).mode & 0o777;

describe('the CLI in-process', () => {
  it('keygen and issue write 0600 files a worker accepts', async () => {
    const dir = tempDir('keys');
    const file = (name: string) => join(dir, name);
    const issuerKey = await cliIn(['keygen', '--out', file('issuer.jwk')]);
    expect(issuerKey.code).toBe(0);
    const issuerPub = issuerKey.stdout.trim();
    expect(mode(file('issuer.jwk'))).toBe(0o600);
    expect(JSON.parse(readFileSync(file('issuer.jwk'), 'utf8'))).toMatchObject({ kty: 'OKP', crv: 'Ed25519', x: issuerPub });
    const userKey = await cliIn(['keygen', '--out', file('user.jwk')]);
    const [byPub, byKey] = await Promise.all([
      cliIn(['issue', '--issuer-key', file('issuer.jwk'), '--slug', 'flow-svc', '--public-key', userKey.stdout.trim(), '--ttl', '30d']),
      cliIn(['issue', '--issuer-key', file('issuer.jwk'), '--slug', 'ops', '--key', file('user.jwk'), '--admin', '--out', file('admin.cred')]),
    ]);
    expect(byPub.code, byPub.stderr).toBe(0);
    expect(byPub.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(byKey.code, byKey.stderr).toBe(0);
    expect(mode(file('admin.cred'))).toBe(0o600);
    // A worker trusting this issuer (on its own subject prefix) accepts both credentials.
    const worker = await startTestWorker(testEnv({
      natsUrl: stack.nats.url, redisUrl: stack.redis.url, issuers: [issuerPub], extra: { SECRET_SVC_SUBJECT_PREFIX: 'keys', SECRET_SVC_REDIS_PREFIX: 'keys:', SECRET_SVC_AUDIT_STREAM: 'KEYS_AUDIT' },
    }));
    try {
      const env = { NATS_URL: stack.nats.url, SECRET_SVC_SUBJECT_PREFIX: 'keys', SECRET_SVC_KEY_FILE: file('user.jwk') };
      const [who, admin] = await Promise.all([
        cliIn(['whoami'], { env: { ...env, SECRET_SVC_CREDENTIAL: byPub.stdout.trim() } }),
        cliIn(['whoami', '--credential-file', file('admin.cred')], { env }),
      ]);
      expect(JSON.parse(who.stdout)).toMatchObject({ slug: 'flow-svc', admin: false, issuer: issuerPub });
      expect(JSON.parse(who.stdout).expiresAt).not.toBeNull();
      expect(JSON.parse(admin.stdout)).toMatchObject({ slug: 'ops', admin: true, expiresAt: expect.any(String) });
    } finally {
      await worker.stop();
    }
  });

  it('set, get, update, ls and rm', async () => {
    const env = callerEnv(stack, 'flow-svc');
    const who = await cliIn(['whoami'], { env });
    expect(JSON.parse(who.stdout)).toMatchObject({ slug: 'flow-svc', admin: false, issuer: stack.issuer.publicKey });

    // set from stdin: one trailing newline is dropped, inner ones and spaces are kept.
    const set = await cliIn(['set', 'flow-svc/DB_PASSWORD'], { env, input: 'pa ss\nword\n' });
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe('created flow-svc/DB_PASSWORD (version 1)\n');
    const [get, raw] = await Promise.all([
      cliIn(['get', 'flow-svc/DB_PASSWORD'], { env }),
      cliIn(['get', '-n', 'flow-svc/DB_PASSWORD'], { env }),
    ]);
    expect(get).toMatchObject({ code: 0, stdout: 'pa ss\nword\n', stderr: '' });
    expect(raw.stdout).toBe('pa ss\nword');

    const again = await cliIn(['set', 'flow-svc/DB_PASSWORD', 'second'], { env });
    expect(again.stdout).toBe('updated flow-svc/DB_PASSWORD (version 2)\n');
    const created = await cliIn(['create', 'flow-svc/API', 'k1', '--reader', 'flow-svc', '--reader', 'web', '--writer', 'flow-svc', '--deleter', 'flow-svc'], { env });
    expect(created.code, created.stderr).toBe(0);
    const [stale, listsOnly] = await Promise.all([
      cliIn(['update', 'flow-svc/API', 'k2', '--if-version', '7'], { env }),
      cliIn(['update', 'flow-svc/API', '--reader', 'flow-svc', '--if-version', '1'], { env }),
    ]);
    expect(stale.code).toBe(6);
    expect(stale.stderr).toMatch(/^error: 409 conflict: /);
    expect(listsOnly.code, listsOnly.stderr).toBe(0);

    const [ls, lsJson] = await Promise.all([cliIn(['ls', 'flow-svc/'], { env }), cliIn(['ls', '--json'], { env })]);
    const lines = ls.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^KEY\s+VERSION\s+UPDATED\s+READERS\s+WRITERS\s+DELETERS$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2))).toEqual([['flow-svc/API', '2'], ['flow-svc/DB_PASSWORD', '2']]);
    expect(ls.stdout).not.toContain('second');
    expect((JSON.parse(lsJson.stdout) as Array<{ key: string }>).map((s) => s.key)).toEqual(['flow-svc/API', 'flow-svc/DB_PASSWORD']);

    // --no-writers empties a list: the caller may then no longer update (403, exit 4).
    expect((await cliIn(['update', 'flow-svc/API', '--no-writers'], { env })).code).toBe(0);
    const refused = await cliIn(['update', 'flow-svc/API', 'k3'], { env });
    expect([refused.code, refused.stderr]).toEqual([4, expect.stringMatching(/^error: 403 forbidden: /)]);

    const rm = await cliIn(['rm', 'flow-svc/DB_PASSWORD'], { env });
    expect(rm).toMatchObject({ code: 0, stdout: 'deleted flow-svc/DB_PASSWORD\n' });
    const gone = await cliIn(['get', 'flow-svc/DB_PASSWORD'], { env });
    expect([gone.code, gone.stdout, gone.stderr]).toEqual([3, '', expect.stringMatching(/^error: 404 not_found: /)]);
  });

  it('maps failures to distinct, documented exit codes', async () => {
    const env = callerEnv(stack, 'codes-svc');
    expect((await cliIn(['set', 'codes-svc/API', 'v'], { env })).code).toBe(0);
    const dir = tempDir('codes');
    const stranger = new TestIssuer().caller('codes-svc');
    writeFileSync(join(dir, 'stranger.jwk'), JSON.stringify(stranger.key));
    const free = await freePort();
    const [notFound, forbidden, unauthenticated, conflict, badKey, noArg, noCred, noWorker, noNats, missingFile] = await Promise.all([
      cliIn(['get', 'codes-svc/NOPE'], { env }),
      cliIn(['set', 'other-svc/X', 'v'], { env }),
      cliIn(['whoami'], { env: { NATS_URL: stack.nats.url, SECRET_SVC_CREDENTIAL: stranger.credential, SECRET_SVC_KEY_FILE: join(dir, 'stranger.jwk') } }),
      cliIn(['create', 'codes-svc/API', 'again'], { env }),
      cliIn(['get', 'codes-svc//bad'], { env }),
      cliIn(['get'], { env }),
      cliIn(['whoami'], { env: { NATS_URL: stack.nats.url } }),
      cliIn(['whoami', '--subject-prefix', 'nobody-serves-this', '--timeout', '300'], { env }),
      cliIn(['whoami'], { env: { ...env, NATS_URL: `nats://127.0.0.1:${free}` } }),
      cliIn(['whoami'], { env: { ...env, SECRET_SVC_CREDENTIAL: '', SECRET_SVC_CREDENTIAL_FILE: join(dir, 'nope.cred') } }),
    ]);
    expect([notFound.code, notFound.stderr]).toEqual([3, expect.stringMatching(/^error: 404 not_found: /)]);
    expect([forbidden.code, forbidden.stderr]).toEqual([4, expect.stringMatching(/^error: 403 forbidden: /)]);
    expect([unauthenticated.code, unauthenticated.stderr]).toEqual([5, expect.stringMatching(/^error: 401 unauthenticated: /)]);
    expect([conflict.code, conflict.stderr]).toEqual([6, expect.stringMatching(/^error: 409 conflict: /)]);
    expect([badKey.code, badKey.stderr]).toEqual([2, expect.stringMatching(/^error: 400 bad_request: /)]);
    expect([noArg.code, noArg.stderr]).toEqual([2, expect.stringMatching(/^error: missing required argument 'key'/)]);
    expect([noCred.code, noCred.stderr]).toEqual([2, expect.stringMatching(/^error: no credential: set SECRET_SVC_CREDENTIAL_FILE/)]);
    expect([noWorker.code, noWorker.stderr]).toEqual([7, expect.stringMatching(/^error: 503 unavailable: no worker is serving nobody-serves-this\.whoami \(waited \d+ ms/)]);
    expect([noNats.code, noNats.stderr]).toEqual([7, expect.stringMatching(/^error: 503 unavailable: cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+/)]);
    // A missing credential file names the setting that named it.
    expect(missingFile.code).toBe(2);
    expect(missingFile.stderr).toContain(`cannot read the credential file ${join(dir, 'nope.cred')} (named by SECRET_SVC_CREDENTIAL_FILE): no such file`);
    const help = await cliIn(['get', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes:[\s\S]*3 +not found[\s\S]*4 +forbidden[\s\S]*5 +unauthenticated/);
  });

  it('sign prints a JSON envelope the worker accepts over plain NATS', async () => {
    const env = callerEnv(stack, 'sign-svc');
    const nc = stack.nc;
    const decode = (data: Uint8Array) => JSON.parse(new TextDecoder().decode(data)) as Record<string, unknown>;
    const [whoami, create] = await Promise.all([
      cliIn(['sign', 'whoami'], { env }),
      cliIn(['sign', 'create', '{"key":"sign-svc/FROM_NATS","value":"via nats req"}'], { env }),
    ]);
    expect(whoami.code, whoami.stderr).toBe(0);
    const envelope = JSON.parse(whoami.stdout) as Record<string, unknown>;
    expect(Object.keys(envelope).sort()).toEqual(['cred', 'payload', 'sig']);
    const me = await nc.request('secret.whoami', new TextEncoder().encode(whoami.stdout), { timeout: 10_000 });
    expect(decode(me.data)).toMatchObject({ slug: 'sign-svc', admin: false });
    const replay = await nc.request('secret.whoami', new TextEncoder().encode(whoami.stdout), { timeout: 10_000 });
    expect(decode(replay.data)).toMatchObject({ error: { status: 401 } });
    const made = await nc.request('secret.create', new TextEncoder().encode(create.stdout), { timeout: 10_000 });
    expect(decode(made.data)).toMatchObject({ key: 'sign-svc/FROM_NATS', version: 1 });
    const [badOp, headField] = await Promise.all([
      cliIn(['sign', 'frobnicate'], { env }),
      cliIn(['sign', 'read', '{"key":"sign-svc/X","nonce":"aaaaaaaaaaaaaaaaaaaa"}'], { env }),
    ]);
    expect([badOp.code, headField.code]).toEqual([2, 2]);
  });

  it('export and import round-trip JSON and dotenv', async () => {
    const env = callerEnv(stack, 'trip-svc');
    const dir = tempDir('trip');
    const input = { 'trip-svc/ONE': 'one', 'trip-svc/TWO': "it's \"quoted\"\nand $HOME" };
    writeFileSync(join(dir, 'in.json'), JSON.stringify(input));
    const imported = await cliIn(['import', join(dir, 'in.json')], { env });
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toBe('imported 2 secrets (2 created, 0 updated, 0 unchanged)\n');
    const exported = await cliIn(['export', 'trip-svc/', '--format', 'dotenv', '--strip-prefix'], { env });
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toContain('ONE=one\n');
    writeFileSync(join(dir, 'copy.env'), exported.stdout);
    const again = await cliIn(['import', join(dir, 'copy.env'), '--prefix', 'trip-svc/copy/'], { env });
    expect(again.code, again.stderr).toBe(0);
    const json = await cliIn(['export', 'trip-svc/copy/'], { env });
    const byKey = Object.fromEntries((JSON.parse(json.stdout) as Array<{ key: string; value: string }>).map((s) => [s.key, s.value]));
    expect(byKey).toEqual({ 'trip-svc/copy/ONE': 'one', 'trip-svc/copy/TWO': input['trip-svc/TWO'] });
    // Importing the same again changes nothing.
    writeFileSync(join(dir, 'all.json'), json.stdout);
    const same = await cliIn(['import', join(dir, 'all.json')], { env });
    expect(same.stdout).toBe('imported 2 secrets (0 created, 0 updated, 2 unchanged)\n');
  });
});

describe('the bin as a child process', () => {
  it('starts, reads its environment and exits with the documented codes', { timeout: 120_000 }, async () => {
    const env = callerEnv(stack, 'smoke-svc');
    const set = await cliIn(['set', 'smoke-svc/TOKEN', 't0ken'], { env });
    expect(set.code, set.stderr).toBe(0);
    const [get, missing] = await Promise.all([cli(['get', 'smoke-svc/TOKEN'], { env }), cli(['get', 'smoke-svc/NONE'], { env })]);
    expect(get).toMatchObject({ code: 0, stdout: 't0ken\n', stderr: '' });
    expect(missing.code).toBe(3);
  });
});
