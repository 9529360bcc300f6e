/** CLI environments for test callers: each test makes the identities it needs (no shared state). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.js';

/** A stack (NATS, Redis, a worker) for the file: started before its tests, stopped after. */
export function useStack(): () => Stack {
  let stack: Stack | undefined;
  beforeAll(async () => { stack = await startStack(); }, 60_000);
  afterAll(async () => { await stack?.stop(); });
  return () => stack!;
}

const madeDirs: string[] = [];
// They hold test callers' private keys: none is left behind. Registered when a test file
// imports this module, so it runs after that file's tests.
afterAll(() => { for (const d of madeDirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

/** A new temporary directory, removed after the test file's tests. */
export function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `secret-svc-${name}-`));
  madeDirs.push(dir);
  return dir;
}

/** NATS_URL, SECRET_SVC_CREDENTIAL and SECRET_SVC_KEY_FILE for a new caller `slug`. */
export function callerEnv(stack: Stack, slug: string, opts: { admin?: boolean } = {}): Record<string, string> {
  const caller = stack.issuer.caller(slug, opts);
  const keyFile = join(tempDir('key'), `${slug}.jwk`);
  writeFileSync(keyFile, JSON.stringify(caller.key), { mode: 0o600 });
  return { NATS_URL: stack.nats.url, SECRET_SVC_CREDENTIAL: caller.credential, SECRET_SVC_KEY_FILE: keyFile };
}
