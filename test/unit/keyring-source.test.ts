/** Where the encryption keyring comes from (docs/protocol.md §13): the five variables, their rules and refusals. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KEYRING_ENV, KeyringError, keyIdOf, loadKeyring, type KeyringEnv } from '../../src/keyring-source.js';
import { Sealer } from '../../src/store/seal.js';

const newKey = () => randomBytes(32);
const [A, B, C] = [newKey(), newKey(), newKey()];
const text = (k: Buffer) => k.toString('base64');
const same = (ring: Uint8Array[], expected: Buffer[]) =>
  expect(ring.map((k) => Buffer.from(k).toString('hex'))).toEqual(expected.map((k) => k.toString('hex')));

const dir = mkdtempSync(join(tmpdir(), 'secret-svc-keyring-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function file(content: string): string {
  const path = join(dir, `keys-${++files}.txt`);
  writeFileSync(path, content);
  return path;
}

function refusal(env: KeyringEnv, opts?: { commandTimeoutMs?: number }): KeyringError {
  let thrown: unknown;
  try {
    loadKeyring(env, opts);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(KeyringError);
  return thrown as KeyringError;
}

/** Running, not a zombie waiting for pid 1 to reap it. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return !existsSync('/proc/self/stat'); // no procfs: only kill(0) can tell
  }
}

/** A single-quoted shell word. */
const sh = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

describe('keyIdOf (§13)', () => {
  it('is the first 8 hex digits of HMAC-SHA256(key, "secret-svc key id")', () => {
    // Computed independently: printf 'secret-svc key id' | openssl dgst -sha256 -mac HMAC -macopt hexkey:…
    expect(keyIdOf(new Uint8Array(32))).toBe('4bc9f8fa');
    expect(keyIdOf(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe('d3ec9150');
  });

  it('is the id the sealer writes into records', () => {
    expect(keyIdOf(A)).toBe(new Sealer(A).keyIdText);
  });
});

describe('the 1.0 variables: a keyring of one', () => {
  it('SECRET_SVC_ENCRYPTION_KEY (white space around it ignored)', () => {
    same(loadKeyring({ SECRET_SVC_ENCRYPTION_KEY: ` ${text(A)}\n` }), [A]);
  });

  it('SECRET_SVC_ENCRYPTION_KEY_FILE (white space, CRLF and comment lines ignored)', () => {
    same(loadKeyring({ SECRET_SVC_ENCRYPTION_KEY_FILE: file(`# the worker key\r\n\r\n  ${text(A)}\t\r\n`) }), [A]);
  });

  it('a comma in SECRET_SVC_ENCRYPTION_KEY is refused, pointing at _KEYS', () => {
    const err = refusal({ SECRET_SVC_ENCRYPTION_KEY: `${text(A)},${text(B)}` });
    expect(err.message).toBe('SECRET_SVC_ENCRYPTION_KEY: holds one key; for a keyring use SECRET_SVC_ENCRYPTION_KEYS');
  });

  it('a SECRET_SVC_ENCRYPTION_KEY_FILE holding two keys is refused, pointing at _KEYS_FILE', () => {
    const err = refusal({ SECRET_SVC_ENCRYPTION_KEY_FILE: file(`${text(A)}\n${text(B)}\n`) });
    expect(err.message).toContain('SECRET_SVC_ENCRYPTION_KEY_FILE');
    expect(err.message).toContain('SECRET_SVC_ENCRYPTION_KEYS_FILE');
  });
});

describe('SECRET_SVC_ENCRYPTION_KEYS', () => {
  it('is an ordered, comma-separated ring (spaces and empty entries ignored)', () => {
    same(loadKeyring({ SECRET_SVC_ENCRYPTION_KEYS: ` ${text(B)} ,${text(A)},, ${text(C)},` }), [B, A, C]);
  });

  it('refuses a bad key, naming the variable and its position, not its text', () => {
    const bad = randomBytes(16).toString('base64');
    const err = refusal({ SECRET_SVC_ENCRYPTION_KEYS: `${text(A)},${bad},${text(B)}` });
    expect(err.message).toMatch(/^SECRET_SVC_ENCRYPTION_KEYS: key 2 must decode to exactly 32 bytes/);
    expect(err.message).not.toContain(bad);
    expect(err.message).not.toContain(text(A));
  });

  it('refuses a duplicate key, naming both positions', () => {
    const err = refusal({ SECRET_SVC_ENCRYPTION_KEYS: `${text(A)},${text(B)},${text(A)}` });
    expect(err.message).toContain('SECRET_SVC_ENCRYPTION_KEYS: key 1 and key 3 hold the same key');
    expect(err.message).toContain(keyIdOf(A));
    expect(err.message).not.toContain(text(A));
  });

  it('refuses the same key written twice in different base64 (with and without padding)', () => {
    const err = refusal({ SECRET_SVC_ENCRYPTION_KEYS: `${text(A)},${text(A).replace(/=+$/, '')}` });
    expect(err.message).toContain('same key');
  });

  it('refuses a value with no key in it', () => {
    expect(refusal({ SECRET_SVC_ENCRYPTION_KEYS: ' , ' }).message).toContain('SECRET_SVC_ENCRYPTION_KEYS: no key');
  });
});

describe('SECRET_SVC_ENCRYPTION_KEYS_FILE', () => {
  it('reads one key a line, in order: CRLF, blank lines, surrounding white space and # comments ignored', () => {
    const path = file(`# keyring of the eu workers\r\n\r\n  ${text(B)}  \r\n\t\r\n# old, drop after rewrap\r\n${text(A)}\r\n\n`);
    same(loadKeyring({ SECRET_SVC_ENCRYPTION_KEYS_FILE: path }), [B, A]);
  });

  it('refuses a bad line, naming the variable, the file and the line number, not the text', () => {
    const bad = 'not-base64!';
    const path = file(`${text(A)}\n\n${bad}\n`);
    const err = refusal({ SECRET_SVC_ENCRYPTION_KEYS_FILE: path });
    expect(err.message).toBe(`SECRET_SVC_ENCRYPTION_KEYS_FILE: ${path}: line 3 is not base64 (a key is base64 of 32 random bytes, e.g. from \`secret-svc keys generate\`)`);
  });

  it('refuses two keys on one line (a line holds one key)', () => {
    const err = refusal({ SECRET_SVC_ENCRYPTION_KEYS_FILE: file(`${text(A)} ${text(B)}\n`) });
    expect(err.message).toContain('line 1 is not base64');
    expect(err.message).not.toContain(text(A));
  });

  it('refuses a duplicate key, naming both lines', () => {
    const err = refusal({ SECRET_SVC_ENCRYPTION_KEYS_FILE: file(`${text(A)}\n${text(B)}\n\n${text(A)}\n`) });
    expect(err.message).toContain('line 1 and line 4 hold the same key');
  });

  it('refuses a file with no key (empty, or only comments)', () => {
    for (const content of ['', '\n \r\n', '# nothing yet\n']) {
      const path = file(content);
      expect(refusal({ SECRET_SVC_ENCRYPTION_KEYS_FILE: path }).message).toBe(`SECRET_SVC_ENCRYPTION_KEYS_FILE: ${path} holds no key`);
    }
  });

  it('refuses a file that cannot be read, naming the variable and the path', () => {
    const path = join(dir, 'missing.txt');
    expect(refusal({ SECRET_SVC_ENCRYPTION_KEYS_FILE: path }).message).toBe(`SECRET_SVC_ENCRYPTION_KEYS_FILE: cannot read ${path}: ENOENT`);
  });
});

describe('SECRET_SVC_ENCRYPTION_KEY_COMMAND', () => {
  const cmd = (command: string, timeoutMs?: number) =>
    loadKeyring({ SECRET_SVC_ENCRYPTION_KEY_COMMAND: command }, timeoutMs ? { commandTimeoutMs: timeoutMs } : {});

  it('takes the keys from standard output, one a line, in order', () => {
    same(cmd(`printf '%s\\n' ${text(B)} ${text(A)}`), [B, A]);
  });

  it('runs through /bin/sh -c (pipes, variables) and ignores CRLF, blank lines and its standard error', () => {
    same(cmd(`k=${sh(text(C))}; echo "warming up" >&2; printf '\\r\\n%s\\r\\n\\r\\n' "$k" | cat`), [C]);
  });

  it('reads a key file the command opens (the service-user-only file example)', () => {
    const path = file(`${text(A)}\n`);
    same(cmd(`cat ${sh(path)}`), [A]);
  });

  it('a non-zero exit: refuses with the exit status and the byte count of standard error, never its text nor standard output', () => {
    // A command that echoes the key on standard error must not put it in the worker's logs.
    const err = refusal({
      SECRET_SVC_ENCRYPTION_KEY_COMMAND: `echo ${text(A)}; echo ${text(B)} >&2; echo 'vault: permission denied' >&2; exit 3`,
    });
    const written = Buffer.byteLength(`${text(B)}\nvault: permission denied\n`);
    expect(err.message).toBe(`SECRET_SVC_ENCRYPTION_KEY_COMMAND: the command exited with status 3 (${written} bytes on standard error, not shown: run it yourself to see them)`);
    expect(err.message).not.toContain(text(B));
    expect(err.message).not.toContain('permission denied');
    expect(err.exitStatus).toBe(3);
  });

  it('a non-zero exit with nothing on standard error says so', () => {
    const err = refusal({ SECRET_SVC_ENCRYPTION_KEY_COMMAND: 'exit 9' });
    expect(err.message).toBe('SECRET_SVC_ENCRYPTION_KEY_COMMAND: the command exited with status 9 (0 bytes on standard error, not shown: run it yourself to see them)');
    expect(err.exitStatus).toBe(9);
  });

  it('a command killed by a signal: refuses with 128 + the signal number', () => {
    const err = refusal({ SECRET_SVC_ENCRYPTION_KEY_COMMAND: 'echo stopping >&2; kill -TERM $$' });
    expect(err.message).toBe('SECRET_SVC_ENCRYPTION_KEY_COMMAND: the command was killed by SIGTERM (9 bytes on standard error, not shown: run it yourself to see them)');
    expect(err.exitStatus).toBe(143);
  });

  it('a command that prints nothing: refuses', () => {
    expect(refusal({ SECRET_SVC_ENCRYPTION_KEY_COMMAND: 'true' }).message).toBe('SECRET_SVC_ENCRYPTION_KEY_COMMAND: the command printed no key');
    expect(refusal({ SECRET_SVC_ENCRYPTION_KEY_COMMAND: 'printf "\\n\\n"' }).message).toContain('printed no key');
  });

  it('a command that does not finish in time: refuses, and stops what it started', async () => {
    const pidFile = join(dir, 'sleeper.pid');
    const err = refusal({ SECRET_SVC_ENCRYPTION_KEY_COMMAND: `sleep 60 & echo $! > ${sh(pidFile)}; wait` }, { commandTimeoutMs: 1500 });
    expect(err.message).toMatch(/^SECRET_SVC_ENCRYPTION_KEY_COMMAND: the command did not finish within 1500 ms/);
    expect(err.exitStatus).toBeUndefined();
    // The sleep in the background was killed with its shell (its process group).
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(pid).toBeGreaterThan(0);
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    expect(alive(pid)).toBe(false);
  });

  it('refuses a bad output line by its number, without quoting the output', () => {
    const short = randomBytes(31).toString('base64');
    const err = refusal({ SECRET_SVC_ENCRYPTION_KEY_COMMAND: `printf '%s\\n' ${text(A)} ${short}` });
    expect(err.message).toBe('SECRET_SVC_ENCRYPTION_KEY_COMMAND: output line 2 must decode to exactly 32 bytes (got 31)');
  });

  it('refuses duplicate keys in the output', () => {
    const err = refusal({ SECRET_SVC_ENCRYPTION_KEY_COMMAND: `printf '%s\\n' ${text(A)} ${text(A)}` });
    expect(err.message).toContain('SECRET_SVC_ENCRYPTION_KEY_COMMAND: output line 1 and line 2 hold the same key');
  });
});

describe('one source only', () => {
  const values: Record<(typeof KEYRING_ENV)[number], string> = {
    SECRET_SVC_ENCRYPTION_KEY: text(A),
    SECRET_SVC_ENCRYPTION_KEY_FILE: file(text(A)),
    SECRET_SVC_ENCRYPTION_KEYS: text(A),
    SECRET_SVC_ENCRYPTION_KEYS_FILE: file(text(A)),
    SECRET_SVC_ENCRYPTION_KEY_COMMAND: `echo ${text(A)}`,
  };
  const pairs = KEYRING_ENV.flatMap((a, i) => KEYRING_ENV.slice(i + 1).map((b) => [a, b] as const));

  it.each(pairs)('%s with %s: refused, naming both', (a, b) => {
    const err = refusal({ [a]: values[a], [b]: values[b] });
    expect(err.message).toBe(`set only one of ${a} and ${b}: the keyring comes from one source`);
  });

  it('names every variable given when there are more than two', () => {
    const err = refusal(values);
    expect(err.message).toBe(`set only one of ${KEYRING_ENV.slice(0, -1).join(', ')} and ${KEYRING_ENV.at(-1)}: the keyring comes from one source`);
  });

  it('does not run the command when another variable is set too', () => {
    const marker = join(dir, 'ran');
    refusal({ SECRET_SVC_ENCRYPTION_KEYS: text(A), SECRET_SVC_ENCRYPTION_KEY_COMMAND: `touch ${sh(marker)}; echo ${text(A)}` });
    expect(() => readFileSync(marker)).toThrow();
  });

  it('an empty variable counts as not set', () => {
    same(loadKeyring({ SECRET_SVC_ENCRYPTION_KEY: '', SECRET_SVC_ENCRYPTION_KEY_FILE: '', SECRET_SVC_ENCRYPTION_KEYS: `${text(B)},${text(A)}`, SECRET_SVC_ENCRYPTION_KEY_COMMAND: '' }), [B, A]);
  });

  it('none set (or all empty): refused, naming SECRET_SVC_ENCRYPTION_KEY and the keyring variables', () => {
    for (const env of [{}, { SECRET_SVC_ENCRYPTION_KEY: '', SECRET_SVC_ENCRYPTION_KEYS: '' }]) {
      const err = refusal(env);
      expect(err.message).toContain('SECRET_SVC_ENCRYPTION_KEY ');
      expect(err.message).toContain('SECRET_SVC_ENCRYPTION_KEYS');
      expect(err.message).toContain('_KEY_COMMAND');
    }
  });
});

describe('key text never appears in an error message', () => {
  const secret = text(C);
  const hex = C.toString('hex');
  const short = randomBytes(16).toString('base64');
  const cases: [string, KeyringEnv][] = [
    ['a short key among good ones', { SECRET_SVC_ENCRYPTION_KEYS: `${secret},${short}` }],
    ['a duplicate', { SECRET_SVC_ENCRYPTION_KEYS: `${secret},${secret}` }],
    ['a hex key', { SECRET_SVC_ENCRYPTION_KEY: hex }],
    ['two keys in the 1.0 variable', { SECRET_SVC_ENCRYPTION_KEY: `${secret},${text(A)}` }],
    ['a 1.0 key with a stray character', { SECRET_SVC_ENCRYPTION_KEY: `${secret}!` }],
    ['a file with a bad line after the key', { SECRET_SVC_ENCRYPTION_KEYS_FILE: file(`${secret}\n${secret}x\n`) }],
    ['a 1.0 file with two keys', { SECRET_SVC_ENCRYPTION_KEY_FILE: file(`${secret}\n${text(A)}\n`) }],
    ['a command printing the key then failing', { SECRET_SVC_ENCRYPTION_KEY_COMMAND: `echo ${secret}; exit 1` }],
    ['a command printing a bad line', { SECRET_SVC_ENCRYPTION_KEY_COMMAND: `echo ${secret}; echo ${secret}x` }],
    ['two variables', { SECRET_SVC_ENCRYPTION_KEY: secret, SECRET_SVC_ENCRYPTION_KEYS: secret }],
  ];

  it.each(cases)('%s', (_label, env) => {
    const err = refusal(env);
    for (const leaked of [secret, hex, short, secret.slice(0, 12)]) expect(err.message).not.toContain(leaked);
  });
});
