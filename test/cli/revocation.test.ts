/**
 * `secret-svc revoke`, `unrevoke` and `revocations` in process against a real worker: the
 * selector flags (and WHEN as seconds, ISO time or `now`), the table and --json, exit codes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCaller } from '../helpers/identities.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { parseWhen } from '../../src/cli/lib/revocation-flags.js';
import { runCli } from './in-process.js';

let stack: Stack;
let dir: string;

/** Global flags logging in as `caller`. */
function as(caller: TestCaller): string[] {
  writeFileSync(join(dir, `${caller.slug}.cred`), caller.credential);
  writeFileSync(join(dir, `${caller.slug}.jwk`), JSON.stringify(caller.key), { mode: 0o600 });
  return ['--nats-url', stack.nats.url, '--credential-file', join(dir, `${caller.slug}.cred`), '--key-file', join(dir, `${caller.slug}.jwk`)];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'secret-svc-revoke-'));
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('revoke, unrevoke, revocations', () => {
  it('revokes by each form, lists them as a table and as JSON, and unrevokes', async () => {
    const root = as(stack.issuer.caller('root', { admin: true }));
    const victim = stack.issuer.caller('victim');
    expect(await runCli([...root, 'revocations'])).toMatchObject({ code: 0, stdout: '', stderr: 'no revocations\n' });

    const byKey = await runCli([...root, 'revoke', '--key-id', victim.key.x]);
    expect(byKey).toMatchObject({ code: 0, stderr: '' });
    expect(byKey.stdout).toMatch(new RegExp(`^revoked keyId=${victim.key.x} at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z by root\\n$`));
    expect((await runCli([...root, 'revoke', '--jti', 'leaked-jti'])).code).toBe(0);
    const bySlug = await runCli([...root, 'revoke', '--slug', 'deploy-svc', '--issued-before', '2026-01-31T12:00:00Z']);
    expect(bySlug.stdout).toMatch(/^revoked slug=deploy-svc issuedBefore=1769860800 \(2026-01-31T12:00:00.000Z\) at \S+ by root\n$/);

    const table = await runCli([...root, 'revocations']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^SELECTOR\s+VALUE\s+ISSUED BEFORE\s+AT\s+BY$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2))).toEqual([['keyId', victim.key.x], ['jti', 'leaked-jti'], ['slug', 'deploy-svc']]);
    expect(lines[3]).toContain('2026-01-31T12:00:00.000Z');

    const json = await runCli([...root, 'revocations', '--json']);
    expect(JSON.parse(json.stdout)).toEqual([
      { keyId: victim.key.x, at: expect.any(String), by: 'root' },
      { jti: 'leaked-jti', at: expect.any(String), by: 'root' },
      { slug: 'deploy-svc', issuedBefore: 1769860800, at: expect.any(String), by: 'root' },
    ]);

    // The revoked caller's own CLI calls now fail with 401 (exit 5).
    await new Promise((r) => setTimeout(r, 1_000));
    const refused = await runCli([...as(victim), 'whoami']);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain('credential has been revoked');

    expect(await runCli([...root, 'unrevoke', '--jti', 'leaked-jti'])).toMatchObject({ code: 0, stdout: 'unrevoked jti=leaked-jti\n' });
    const missing = await runCli([...root, 'unrevoke', '--jti', 'leaked-jti']);
    expect(missing.code).toBe(3);
    expect(JSON.parse((await runCli([...root, 'revocations', '--json'])).stdout)).toHaveLength(2);
  });

  it('usage errors (exit 2): no form, two forms, --slug without --issued-before, a bad WHEN; a bad key is 400 (exit 2)', async () => {
    const root = as(stack.issuer.caller('root2', { admin: true }));
    for (const args of [
      ['revoke'],
      ['revoke', '--jti', 'a', '--key-id', 'b'],
      ['unrevoke', '--slug', 'a-svc'],
      ['revoke', '--slug', 'a-svc', '--issued-before', 'yesterday'],
      ['revoke', '--slug', 'a-svc', '--issued-before', '1.5'],
      ['revoke', '--key-id', 'not-a-key'],
    ]) {
      const r = await runCli([...root, ...args]);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr.length).toBeGreaterThan(0);
    }
  });

  it('a non-administrator is refused (403, exit 4)', async () => {
    const plain = as(stack.issuer.caller('plain-svc'));
    expect((await runCli([...plain, 'revoke', '--jti', 'x'])).code).toBe(4);
    expect((await runCli([...plain, 'revocations'])).code).toBe(4);
  });

  it('WHEN: seconds, an ISO time, or now', () => {
    expect(parseWhen('1769860800')).toBe(1769860800);
    expect(parseWhen('2026-01-31T12:00:00Z')).toBe(1769860800);
    expect(parseWhen('now', 1769860800_999)).toBe(1769860800);
    expect(() => parseWhen('-5')).toThrow(/invalid time/);
  });
});
