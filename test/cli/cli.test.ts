/** The real `secret-svc` CLI (a child process) against a real worker, NATS and Redis. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestIssuer } from '../helpers/identities.js';
import { freePort, NatsServer, RedisServer } from '../helpers/servers.js';
import { startTestWorker, testEnv } from '../helpers/worker.js';
import { cli } from './run-cli.js';

let nats: NatsServer;
let redis: RedisServer;
let worker: Awaited<ReturnType<typeof startTestWorker>> | undefined;
let nc: NatsConnection | undefined;
let dir: string;
let issuerPub: string;
/** Environment pointing the CLI at the test worker as `deploy-svc` / as an administrator. */
let userEnv: Record<string, string>;
let adminEnv: Record<string, string>;

/** Each CLI run is a fresh Node process (about a second, more on a busy machine): generous bounds. */
const SLOW = 120_000;

const file = (name: string) => join(dir, name);
const mode = (path: string) => statSync(path).mode & 0o777;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'secret-svc-cli-'));
  [nats, redis] = await Promise.all([NatsServer.start(), RedisServer.start()]);
  // keygen: the issuer key file (0600) and its public key on stdout.
  const keygen = await cli(['keygen', '--out', file('issuer.jwk')]);
  expect(keygen.code).toBe(0);
  issuerPub = keygen.stdout.trim();
  worker = await startTestWorker(testEnv({ natsUrl: nats.url, redisUrl: redis.url, issuers: [issuerPub] }));
  nc = await connect({ servers: nats.url });
}, 60_000);

afterAll(async () => {
  await nc?.close();
  await worker?.stop();
  await nats?.stop();
  await redis?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('keygen → issue → set → get → ls → rm', () => {
  it('runs the whole flow with only the CLI', { timeout: SLOW }, async () => {
    const issuerJwk = JSON.parse(readFileSync(file('issuer.jwk'), 'utf8')) as Record<string, string>;
    expect(mode(file('issuer.jwk'))).toBe(0o600);
    expect(issuerJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', x: issuerPub });
    expect(typeof issuerJwk.d).toBe('string');

    const [userKey, adminKey] = await Promise.all([
      cli(['keygen', '--out', file('user.jwk')]),
      cli(['keygen', '--out', file('admin.jwk')]),
    ]);
    expect(userKey.code).toBe(0);
    expect(adminKey.code).toBe(0);
    // issue: once with --public-key, once with --key (+ --admin, --ttl, --out).
    const [userCred, adminCred] = await Promise.all([
      cli(['issue', '--issuer-key', file('issuer.jwk'), '--slug', 'deploy-svc', '--public-key', userKey.stdout.trim(), '--ttl', '30d']),
      cli(['issue', '--issuer-key', file('issuer.jwk'), '--slug', 'ops', '--key', file('admin.jwk'), '--admin', '--out', file('admin.cred')]),
    ]);
    expect(userCred.code, userCred.stderr).toBe(0);
    expect(userCred.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(adminCred.code, adminCred.stderr).toBe(0);
    expect(mode(file('admin.cred'))).toBe(0o600);

    userEnv = { NATS_URL: nats.url, SECRET_SVC_CREDENTIAL: userCred.stdout.trim(), SECRET_SVC_KEY_FILE: file('user.jwk') };
    adminEnv = { NATS_URL: nats.url, SECRET_SVC_CREDENTIAL_FILE: file('admin.cred'), SECRET_SVC_KEY_FILE: file('admin.jwk') };

    const [who, adminWho] = await Promise.all([cli(['whoami'], { env: userEnv }), cli(['whoami'], { env: adminEnv })]);
    expect(JSON.parse(who.stdout)).toMatchObject({ slug: 'deploy-svc', admin: false, issuer: issuerPub });
    expect(JSON.parse(who.stdout).expiresAt).not.toBeNull();
    expect(JSON.parse(adminWho.stdout)).toMatchObject({ slug: 'ops', admin: true, expiresAt: expect.any(String) }); // issue expires by default

    // set from stdin: one trailing newline is dropped, inner ones and spaces are kept.
    const set = await cli(['set', 'deploy-svc/DB_PASSWORD'], { env: userEnv, input: 'pa ss\nword\n' });
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe('created deploy-svc/DB_PASSWORD (version 1)\n');

    // get prints only the value and one newline; -n not even that.
    const [get, raw] = await Promise.all([
      cli(['get', 'deploy-svc/DB_PASSWORD'], { env: userEnv }),
      cli(['get', '-n', 'deploy-svc/DB_PASSWORD'], { env: userEnv }),
    ]);
    expect(get).toMatchObject({ code: 0, stdout: 'pa ss\nword\n', stderr: '' });
    expect(raw.stdout).toBe('pa ss\nword');

    // set on an existing key updates it; --json gives the whole secret.
    const again = await cli(['set', 'deploy-svc/DB_PASSWORD', 'second'], { env: userEnv });
    expect(again.stdout).toBe('updated deploy-svc/DB_PASSWORD (version 2)\n');
    // create with lists (alongside get --json), then update with --if-version.
    const [json, created] = await Promise.all([
      cli(['get', '--json', 'deploy-svc/DB_PASSWORD'], { env: userEnv }),
      cli(['create', 'deploy-svc/API', 'k1', '--reader', 'deploy-svc', '--reader', 'web', '--writer', 'deploy-svc', '--deleter', 'deploy-svc'], { env: userEnv }),
    ]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      key: 'deploy-svc/DB_PASSWORD', value: 'second', version: 2, readers: ['deploy-svc'], createdBy: 'deploy-svc',
    });
    expect(created.code, created.stderr).toBe(0);
    const [stale, listsOnly] = await Promise.all([
      cli(['update', 'deploy-svc/API', 'k2', '--if-version', '7'], { env: userEnv }),
      cli(['update', 'deploy-svc/API', '--reader', 'deploy-svc', '--if-version', '1'], { env: userEnv }),
    ]);
    expect(stale.code).toBe(6);
    expect(stale.stderr).toMatch(/^error: 409 conflict: /);
    expect(listsOnly.code, listsOnly.stderr).toBe(0);

    const [ls, lsJsonRun] = await Promise.all([cli(['ls', 'deploy-svc/'], { env: userEnv }), cli(['ls', '--json'], { env: userEnv })]);
    expect(ls.code).toBe(0);
    const lines = ls.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^KEY\s+VERSION\s+UPDATED\s+READERS\s+WRITERS\s+DELETERS$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2))).toEqual([['deploy-svc/API', '2'], ['deploy-svc/DB_PASSWORD', '2']]);
    expect(ls.stdout).not.toContain('second'); // no values in a listing
    const lsJson = JSON.parse(lsJsonRun.stdout) as Array<{ key: string; readers: string[] }>;
    expect(lsJson.map((s) => s.key)).toEqual(['deploy-svc/API', 'deploy-svc/DB_PASSWORD']);
    expect(lsJson[0]!.readers).toEqual(['deploy-svc']);

    // --no-writers empties a list: the caller may then no longer update (403, exit 4).
    const emptied = await cli(['update', 'deploy-svc/API', '--no-writers'], { env: userEnv });
    expect(emptied.code, emptied.stderr).toBe(0);
    const after = await cli(['get', '--json', 'deploy-svc/API'], { env: userEnv });
    expect(JSON.parse(after.stdout)).toMatchObject({ readers: ['deploy-svc'], writers: [], deleters: ['deploy-svc'], version: 3 });
    const refused = await cli(['update', 'deploy-svc/API', 'k3'], { env: userEnv });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/^error: 403 forbidden: /);

    const rm = await cli(['rm', 'deploy-svc/DB_PASSWORD'], { env: userEnv });
    expect(rm).toMatchObject({ code: 0, stdout: 'deleted deploy-svc/DB_PASSWORD\n' });
    const gone = await cli(['get', 'deploy-svc/DB_PASSWORD'], { env: userEnv });
    expect(gone.code).toBe(3);
    expect(gone.stdout).toBe('');
    expect(gone.stderr).toMatch(/^error: 404 not_found: /);
  });

  it('maps failures to distinct, documented exit codes', { timeout: SLOW }, async () => {
    const stranger = new TestIssuer().caller('deploy-svc');
    writeFileSync(file('stranger.jwk'), JSON.stringify(stranger.key));
    const free = await freePort();
    const [notFound, forbidden, unauthenticated, conflict, badKey, noArg, noCred, noWorker, noNats] = await Promise.all([
      cli(['get', 'deploy-svc/NOPE'], { env: userEnv }),
      cli(['set', 'other-svc/X', 'v'], { env: userEnv }),
      cli(['whoami'], { env: { NATS_URL: nats.url, SECRET_SVC_CREDENTIAL: stranger.credential, SECRET_SVC_KEY_FILE: file('stranger.jwk') } }),
      cli(['create', 'deploy-svc/API', 'again'], { env: userEnv }),
      cli(['get', 'deploy-svc//bad'], { env: userEnv }),
      cli(['get'], { env: userEnv }),
      cli(['whoami'], { env: { NATS_URL: nats.url } }),
      cli(['whoami', '--subject-prefix', 'nobody-serves-this', '--timeout', '300'], { env: userEnv }),
      cli(['whoami'], { env: { ...userEnv, NATS_URL: `nats://127.0.0.1:${free}` } }),
    ]);
    expect([notFound.code, notFound.stderr]).toEqual([3, expect.stringMatching(/^error: 404 not_found: /)]);
    expect([forbidden.code, forbidden.stderr]).toEqual([4, expect.stringMatching(/^error: 403 forbidden: /)]);
    expect([unauthenticated.code, unauthenticated.stderr]).toEqual([5, expect.stringMatching(/^error: 401 unauthenticated: /)]);
    expect([conflict.code, conflict.stderr]).toEqual([6, expect.stringMatching(/^error: 409 conflict: /)]);
    expect([badKey.code, badKey.stderr]).toEqual([2, expect.stringMatching(/^error: 400 bad_request: /)]);
    expect([noArg.code, noArg.stderr]).toEqual([2, expect.stringMatching(/^error: missing required argument 'key'/)]);
    expect([noCred.code, noCred.stderr]).toEqual([2, expect.stringMatching(/^error: no credential: set SECRET_SVC_CREDENTIAL_FILE/)]);
    expect([noWorker.code, noWorker.stderr]).toEqual([7, expect.stringMatching(/^error: 503 unavailable: /)]);
    expect(noNats.code).toBe(7);
    expect(noNats.stderr).toMatch(/^error: /);
    // The help documents the codes.
    const help = await cli(['get', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes:[\s\S]*3 +not found[\s\S]*4 +forbidden[\s\S]*5 +unauthenticated/);
  });

  it('sign prints a JSON envelope the worker accepts over plain NATS', { timeout: SLOW }, async () => {
    const decode = (data: Uint8Array) => JSON.parse(new TextDecoder().decode(data)) as Record<string, unknown>;
    const [whoami, create] = await Promise.all([
      cli(['sign', 'whoami'], { env: userEnv }),
      cli(['sign', 'create', '{"key":"deploy-svc/FROM_NATS","value":"via nats req"}'], { env: userEnv }),
    ]);
    expect(whoami.code, whoami.stderr).toBe(0);
    const envelope = JSON.parse(whoami.stdout) as Record<string, unknown>;
    expect(Object.keys(envelope).sort()).toEqual(['cred', 'payload', 'sig']);
    expect(JSON.parse(envelope.payload as string)).toMatchObject({ op: 'whoami', aud: 'secret-svc', ts: expect.any(Number), nonce: expect.any(String) });

    const me = await nc!.request('secret.whoami', new TextEncoder().encode(whoami.stdout), { timeout: 5000 });
    expect(decode(me.data)).toMatchObject({ slug: 'deploy-svc', admin: false });
    // A nonce is accepted once: the same envelope again is refused.
    const replay = await nc!.request('secret.whoami', new TextEncoder().encode(whoami.stdout), { timeout: 5000 });
    expect(decode(replay.data)).toMatchObject({ error: { status: 401 } });

    const made = await nc!.request('secret.create', new TextEncoder().encode(create.stdout), { timeout: 5000 });
    expect(decode(made.data)).toMatchObject({ key: 'deploy-svc/FROM_NATS', version: 1 });
    const read = await cli(['sign', 'read', '{"key":"deploy-svc/FROM_NATS"}'], { env: userEnv });
    const value = await nc!.request('secret.read', new TextEncoder().encode(read.stdout), { timeout: 5000 });
    expect(decode(value.data)).toMatchObject({ key: 'deploy-svc/FROM_NATS', value: 'via nats req' });

    const [badOp, headField] = await Promise.all([
      cli(['sign', 'frobnicate'], { env: userEnv }),
      cli(['sign', 'read', '{"key":"deploy-svc/X","nonce":"aaaaaaaaaaaaaaaaaaaa"}'], { env: userEnv }),
    ]);
    expect([badOp.code, headField.code]).toEqual([2, 2]);
  });

  it('export and import round-trip JSON and dotenv', { timeout: SLOW }, async () => {
    const input = { 'deploy-svc/ONE': 'one', 'deploy-svc/TWO': "it's \"quoted\"\nand $HOME" };
    writeFileSync(file('in.json'), JSON.stringify(input));
    const imported = await cli(['import', file('in.json')], { env: userEnv });
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toBe('imported 2 secrets (2 created, 0 updated)\n');

    const exported = await cli(['export', 'deploy-svc/', '--format', 'dotenv', '--strip-prefix'], { env: userEnv });
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toContain('ONE=one\n');
    writeFileSync(file('copy.env'), exported.stdout);
    // Back in under another prefix through dotenv, then compare values through JSON export.
    const again = await cli(['import', file('copy.env'), '--prefix', 'deploy-svc/copy/'], { env: userEnv });
    expect(again.code, again.stderr).toBe(0);
    const json = await cli(['export', 'deploy-svc/copy/'], { env: userEnv });
    const secrets = JSON.parse(json.stdout) as Array<{ key: string; value: string }>;
    const byKey = Object.fromEntries(secrets.map((s) => [s.key, s.value]));
    expect(byKey['deploy-svc/copy/ONE']).toBe('one');
    expect(byKey['deploy-svc/copy/TWO']).toBe(input['deploy-svc/TWO']);

    // Importing the JSON export over existing keys updates them.
    writeFileSync(file('all.json'), json.stdout);
    const update = await cli(['import', file('all.json')], { env: userEnv });
    expect(update.stdout).toMatch(/\(0 created, \d+ updated\)/);
  });
});
