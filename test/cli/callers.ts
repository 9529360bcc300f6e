/** CLI environments for test callers: each test makes the identities it needs (no shared state). */
import { mkdtempSync, writeFileSync } from 'node:fs';
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

export const tempDir = (name: string) => mkdtempSync(join(tmpdir(), `secret-svc-${name}-`));

/** NATS_URL, SECRET_SVC_CREDENTIAL and SECRET_SVC_KEY_FILE for a new caller `slug`. */
export function callerEnv(stack: Stack, slug: string, opts: { admin?: boolean } = {}): Record<string, string> {
  const caller = stack.issuer.caller(slug, opts);
  const keyFile = join(tempDir('key'), `${slug}.jwk`);
  writeFileSync(keyFile, JSON.stringify(caller.key), { mode: 0o600 });
  return { NATS_URL: stack.nats.url, SECRET_SVC_CREDENTIAL: caller.credential, SECRET_SVC_KEY_FILE: keyFile };
}
