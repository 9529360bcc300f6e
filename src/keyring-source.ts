/**
 * Where the encryption keyring comes from (docs/protocol.md §13): exactly one of five variables,
 * read once at startup, gives an ordered list of 32-byte keys; the first seals, all open.
 *
 *   SECRET_SVC_ENCRYPTION_KEY          1.0: one key (base64)
 *   SECRET_SVC_ENCRYPTION_KEY_FILE     1.0: a file holding one key
 *   SECRET_SVC_ENCRYPTION_KEYS         keys, comma-separated
 *   SECRET_SVC_ENCRYPTION_KEYS_FILE    a file, one key a line
 *   SECRET_SVC_ENCRYPTION_KEY_COMMAND  a shell command line whose standard output holds the keys, one a line
 *
 * In files and command output, white space around a line, empty lines and lines starting
 * with `#` (comments) are ignored. The command runs once, through /bin/sh -c, with the
 * worker's environment and no standard input, for at most 10 s. Errors name the variable
 * and the line or position of a bad key, never its text; neither the command's standard output
 * nor its standard error is ever logged or quoted (a failing command may echo a key there):
 * only its exit status and how many bytes it wrote to standard error.
 */
import { spawnSync, type SpawnSyncOptionsWithStringEncoding } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { keyIdOf } from './store/seal.js';

export const KEYRING_ENV = [
  'SECRET_SVC_ENCRYPTION_KEY',
  'SECRET_SVC_ENCRYPTION_KEY_FILE',
  'SECRET_SVC_ENCRYPTION_KEYS',
  'SECRET_SVC_ENCRYPTION_KEYS_FILE',
  'SECRET_SVC_ENCRYPTION_KEY_COMMAND',
] as const;
export type KeyringVariable = (typeof KEYRING_ENV)[number];
export type KeyringEnv = Partial<Record<KeyringVariable, string>>;

export const KEY_BYTES = 32;
export const KEY_COMMAND_TIMEOUT_MS = 10_000;
/** Far above any keyring; a runaway command is stopped instead of filling memory. */
const COMMAND_MAX_OUTPUT_BYTES = 1024 * 1024;

/** A keyring that cannot be loaded; `exitStatus` is set when the key command failed with one. */
export class KeyringError extends Error {
  constructor(message: string, readonly exitStatus?: number) {
    super(message);
  }
}

/** A key's public id (§13): defined once, by the store that seals with the key. */
export { keyIdOf };

export interface KeyringOptions {
  /** Limit for SECRET_SVC_ENCRYPTION_KEY_COMMAND (tests shorten it). */
  commandTimeoutMs?: number;
}

/** The ordered keyring from whichever one variable is set (an empty variable counts as unset). */
export function loadKeyring(env: KeyringEnv, opts: KeyringOptions = {}): Uint8Array[] {
  const given = KEYRING_ENV.filter((name) => env[name] !== undefined && env[name] !== '');
  if (given.length > 1) {
    throw new KeyringError(`set only one of ${listed(given)}: the keyring comes from one source`);
  }
  const variable = given[0];
  if (variable === undefined) {
    throw new KeyringError('SECRET_SVC_ENCRYPTION_KEY (or SECRET_SVC_ENCRYPTION_KEY_FILE, SECRET_SVC_ENCRYPTION_KEYS, ' +
      '_KEYS_FILE, _KEY_COMMAND) is required: base64 of 32 random bytes, e.g. from `secret-svc keys generate`');
  }
  const value = env[variable]!;
  let keys: Uint8Array[];
  switch (variable) {
    case 'SECRET_SVC_ENCRYPTION_KEY':
      if (value.includes(',')) throw new KeyringError(`${variable}: holds one key; for a keyring use SECRET_SVC_ENCRYPTION_KEYS`);
      keys = [decodeKey(value.trim(), variable, '')];
      break;
    case 'SECRET_SVC_ENCRYPTION_KEY_FILE':
      keys = keysFromLines(readKeyFile(value, variable), variable, `${value}: `);
      if (keys.length !== 1) {
        throw new KeyringError(`${variable}: ${value} holds ${keys.length} keys; for a keyring use SECRET_SVC_ENCRYPTION_KEYS_FILE`);
      }
      break;
    case 'SECRET_SVC_ENCRYPTION_KEYS':
      keys = keysFromList(value, variable);
      break;
    case 'SECRET_SVC_ENCRYPTION_KEYS_FILE':
      keys = keysFromLines(readKeyFile(value, variable), variable, `${value}: `);
      break;
    case 'SECRET_SVC_ENCRYPTION_KEY_COMMAND':
      keys = keysFromLines(runKeyCommand(value, opts.commandTimeoutMs ?? KEY_COMMAND_TIMEOUT_MS), variable, 'output ');
      break;
  }
  if (keys.length === 0) {
    const what = variable === 'SECRET_SVC_ENCRYPTION_KEY_COMMAND' ? 'the command printed no key'
      : variable.endsWith('_FILE') ? `${value} holds no key` : 'no key given';
    throw new KeyringError(`${variable}: ${what}`);
  }
  return keys;
}

/** "1, 2 and 3". */
function listed(names: readonly string[]): string {
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

function keysFromList(text: string, variable: KeyringVariable): Uint8Array[] {
  const entries = text.split(',').map((s, i) => ({ text: s.trim(), where: `key ${i + 1}` })).filter((e) => e.text !== '');
  return distinct(entries.map((e) => ({ key: decodeKey(e.text, variable, `${e.where} `), where: e.where })), variable, '');
}

/** One key a line; surrounding white space, empty lines and `#` comment lines are ignored. */
function keysFromLines(text: string, variable: KeyringVariable, context: string): Uint8Array[] {
  const entries = text.split(/\r\n|\n|\r/).map((s, i) => ({ text: s.trim(), where: `line ${i + 1}` }))
    .filter((e) => e.text !== '' && !e.text.startsWith('#'));
  return distinct(entries.map((e) => ({ key: decodeKey(e.text, variable, `${context}${e.where} `), where: e.where })), variable, context);
}

function distinct(entries: { key: Uint8Array; where: string }[], variable: KeyringVariable, context: string): Uint8Array[] {
  entries.forEach((e, i) => {
    const earlier = entries.slice(0, i).find((o) => Buffer.from(o.key).equals(e.key));
    if (earlier) {
      throw new KeyringError(`${variable}: ${context}${earlier.where} and ${e.where} hold the same key (id ${keyIdOf(e.key)}); ` +
        'each key may appear once in the ring');
    }
  });
  return entries.map((e) => e.key);
}

/** `where` locates the key for the message ("line 3 ", "key 2 ", or nothing); the text itself is never shown. */
function decodeKey(text: string, variable: KeyringVariable, where: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    throw new KeyringError(`${variable}: ${where}is not base64 (a key is base64 of 32 random bytes, e.g. from \`secret-svc keys generate\`)`);
  }
  const key = Buffer.from(text, 'base64');
  if (key.length !== KEY_BYTES) {
    throw new KeyringError(`${variable}: ${where}must decode to exactly ${KEY_BYTES} bytes (got ${key.length})`);
  }
  return new Uint8Array(key);
}

function readKeyFile(file: string, variable: KeyringVariable): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new KeyringError(`${variable}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * Runs the command once through /bin/sh -c and returns its standard output. It runs in a
 * process group of its own, so on a time-out everything it started is stopped too. Startup
 * waits for it anyway, so running it synchronously keeps loadConfig synchronous for callers.
 */
function runKeyCommand(command: string, timeoutMs: number): string {
  const variable = 'SECRET_SVC_ENCRYPTION_KEY_COMMAND';
  const options: SpawnSyncOptionsWithStringEncoding & { detached: boolean } = {
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    detached: true, // its own process group; spawnSync honours it though its typings omit it
    maxBuffer: COMMAND_MAX_OUTPUT_BYTES,
    encoding: 'utf8',
  };
  const r = spawnSync('/bin/sh', ['-c', command], options);
  const failed = r.error as NodeJS.ErrnoException | undefined;
  if (failed) {
    killGroup(r.pid);
    if (failed.code === 'ETIMEDOUT') {
      throw new KeyringError(`${variable}: the command did not finish within ${formatSeconds(timeoutMs)} ` +
        '(stopped; a process it leaves running must not keep its standard output open)');
    }
    if (failed.code === 'ENOBUFS') throw new KeyringError(`${variable}: the command printed more than ${COMMAND_MAX_OUTPUT_BYTES} bytes`);
    throw new KeyringError(`${variable}: cannot run /bin/sh: ${failed.code ?? failed.message}`);
  }
  if (r.status !== 0) {
    const status = r.status ?? 128 + (constants.signals[r.signal as NodeJS.Signals] ?? 0);
    const how = r.status !== null ? `exited with status ${r.status}` : `was killed by ${r.signal}`;
    throw new KeyringError(`${variable}: the command ${how} (${stderrBytes(r.stderr)} on standard error, not shown: run it yourself to see them)`, status);
  }
  return r.stdout;
}

function stderrBytes(text: string): string {
  const n = Buffer.byteLength(text, 'utf8');
  return n === 1 ? '1 byte' : `${n} bytes`;
}

function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is gone already
  }
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
