/**
 * `secret-svc issue` always sets iat and a random jti, expires after 90 days unless told
 * otherwise, and prints jti and expiry on stderr; `whoami` shows the jti of the caller's credential.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateJwk, parseCredential, type CredentialClaims } from '@secret-svc/protocol';
import { startStack, type Stack } from '../helpers/stack.js';
import { runCli } from './in-process.js';

const DAY = 86_400;
let dir: string;
let issuerFile: string;
const holder = generateJwk();
const file = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'secret-svc-issue-'));
  issuerFile = file('issuer.jwk');
  writeFileSync(issuerFile, JSON.stringify(generateJwk()), { mode: 0o600 });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function claimsOf(credential: string): CredentialClaims {
  const parsed = parseCredential(credential.trim());
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed.claims;
}

const issue = (...extra: string[]) => runCli(['issue', '--issuer-key', issuerFile, '--slug', 'deploy-svc', '--public-key', holder.x, ...extra]);

describe('secret-svc issue', () => {
  it('by default: iat, a 22-character random jti, expiry in 90 days; jti and expiry on stderr, the credential alone on stdout', async () => {
    const before = Math.floor(Date.now() / 1000);
    const r = await issue();
    const after = Math.floor(Date.now() / 1000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const c = claimsOf(r.stdout);
    expect(c.iat).toBeGreaterThanOrEqual(before);
    expect(c.iat).toBeLessThanOrEqual(after);
    expect(c.exp).toBe(c.iat! + 90 * DAY);
    expect(c.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(c.jti!, 'base64url')).toHaveLength(16);
    expect(r.stderr).toContain(`jti: ${c.jti}\n`);
    const expiry = new Date(c.exp! * 1000).toISOString().replace(/\.000Z$/, 'Z');
    expect(r.stderr).toContain(`expires: ${expiry} (in 90 days)\n`);
    expect(r.stdout).not.toContain('jti');
  });

  it('every credential gets its own jti', async () => {
    const [a, b] = [await issue(), await issue()];
    expect(claimsOf(a.stdout).jti).not.toBe(claimsOf(b.stdout).jti);
  });

  it('--ttl sets the expiry', async () => {
    const r = await issue('--ttl', '12h');
    expect(r.code, r.stderr).toBe(0);
    const c = claimsOf(r.stdout);
    expect(c.exp).toBe(c.iat! + 12 * 3600);
    expect(r.stderr).toMatch(/^expires: \S+ \(in 12 hours\)$/m);
  });

  it('--no-expiry gives a credential without exp, still with iat and jti', async () => {
    const r = await issue('--no-expiry');
    expect(r.code, r.stderr).toBe(0);
    const c = claimsOf(r.stdout);
    expect(c.exp).toBeUndefined();
    expect(typeof c.iat).toBe('number');
    expect(c.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(r.stderr).toContain('expires: never\n');
  });

  it('--ttl together with --no-expiry is a usage error and prints no credential', async () => {
    for (const args of [['--ttl', '1h', '--no-expiry'], ['--no-expiry', '--ttl', '1h']]) {
      const r = await issue(...args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/either --ttl or --no-expiry, not both/);
    }
  });

  it('a bad --ttl is a usage error', async () => {
    const r = await issue('--ttl', 'soon');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/invalid duration "soon"/);
  });

  it('with --out the file holds the credential and stderr still says jti and expiry', async () => {
    const r = await issue('--admin', '--out', file('admin.cred'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const c = claimsOf(readFileSync(file('admin.cred'), 'utf8'));
    expect(c.admin).toBe(true);
    expect(r.stderr).toContain(`jti: ${c.jti}\n`);
    expect(c.exp).toBe(c.iat! + 90 * DAY);
  });
});

describe('secret-svc whoami', () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack(); }, 60_000);
  afterAll(async () => { await stack?.stop(); });

  it('shows the jti of the credential in use, and null for a credential without one', async () => {
    const keyFile = file('caller.jwk');
    writeFileSync(keyFile, JSON.stringify(holder), { mode: 0o600 });
    writeFileSync(file('trusted-issuer.jwk'), JSON.stringify(stack.issuer.jwk), { mode: 0o600 });
    const issued = await runCli(['issue', '--issuer-key', file('trusted-issuer.jwk'), '--slug', 'deploy-svc', '--key', keyFile, '--out', file('caller.cred')]);
    expect(issued.code, issued.stderr).toBe(0);
    const jti = claimsOf(readFileSync(file('caller.cred'), 'utf8')).jti;

    const flags = ['--nats-url', stack.nats.url, '--key-file', keyFile];
    const who = await runCli([...flags, '--credential-file', file('caller.cred'), 'whoami']);
    expect(who.code, who.stderr).toBe(0);
    expect(JSON.parse(who.stdout)).toMatchObject({ slug: 'deploy-svc', admin: false, issuer: stack.issuer.publicKey, jti });
    expect(JSON.parse(who.stdout).expiresAt).toEqual(expect.any(String));

    // A 1.0 credential (no jti): whoami still works and says so.
    const old = stack.issuer.caller('old-svc');
    writeFileSync(file('old.cred'), old.credential);
    writeFileSync(file('old.jwk'), JSON.stringify(old.key), { mode: 0o600 });
    const oldWho = await runCli(['--nats-url', stack.nats.url, '--key-file', file('old.jwk'), '--credential-file', file('old.cred'), 'whoami']);
    expect(oldWho.code, oldWho.stderr).toBe(0);
    expect(JSON.parse(oldWho.stdout)).toMatchObject({ slug: 'old-svc', jti: null });
  });
});
