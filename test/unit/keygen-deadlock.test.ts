/**
 * Key generation never hangs the process. On Node 20, exporting a KeyObject that
 * generateKeyPairSync returned could deadlock against the garbage collector (a CI run hung
 * in a test worker this way); the protocol package now takes keys from JWK output only.
 * The loop runs in a child process so a hang is a failed test, not a stuck suite.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./scripts/keygen-loop.ts', import.meta.url));

it('generates and uses 40,000 session key pairs and 5,000 Ed25519 keys under GC pressure without hanging', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, '20000'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  expect({ code, out: out.trim() }).toEqual({ code: 0, out: 'done' });
}, 120_000);
