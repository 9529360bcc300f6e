/** Worker configuration (docs/protocol.md §6–7): defaults, and refusing to start without what it needs. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateJwk } from '@secret-svc/protocol';
import { ConfigError, ENV_NAMES, loadConfig } from '../../src/config.js';

const ISSUER = generateJwk().x;
const KEY = randomBytes(32);
const KEY_TEXT = KEY.toString('base64');
const base = { SECRET_SVC_ISSUERS: ISSUER, SECRET_SVC_ENCRYPTION_KEY: KEY_TEXT };

const dir = mkdtempSync(join(tmpdir(), 'secret-svc-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configError(env: Record<string, string>): ConfigError {
  let thrown: unknown;
  try {
    loadConfig(env);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  return thrown as ConfigError;
}

describe('loadConfig defaults (§7)', () => {
  const config = loadConfig(base);

  it.each([
    ['natsServers', ['nats://127.0.0.1:4222']],
    ['redis', { mode: 'standalone', url: 'redis://127.0.0.1:6379' }],
    ['subjectPrefix', 'secret'],
    ['queue', 'secret-svc'],
    ['audience', 'secret-svc'],
    ['redisPrefix', 'secret-svc:'],
    ['maxClockSkewMs', 60_000],
    ['maxValueBytes', 65_536],
    ['maxEnvelopeBytes', 262_144],
  ] as const)('%s defaults to %j', (field, expected) => {
    expect(config[field]).toEqual(expected);
  });

  it('takes the issuers and the encryption key (a keyring of one)', () => {
    expect(config.issuers).toEqual([ISSUER]);
    expect(config.encryptionKeys.map((k) => Buffer.from(k).toString('hex'))).toEqual([KEY.toString('hex')]);
  });

  it('names every §7 variable in ENV_NAMES', () => {
    for (const name of [
      'NATS_URL', 'REDIS_URL', 'SECRET_SVC_ISSUERS', 'SECRET_SVC_ENCRYPTION_KEY', 'SECRET_SVC_ENCRYPTION_KEY_FILE',
      'SECRET_SVC_ENCRYPTION_KEYS', 'SECRET_SVC_ENCRYPTION_KEYS_FILE', 'SECRET_SVC_ENCRYPTION_KEY_COMMAND',
      'SECRET_SVC_SUBJECT_PREFIX', 'SECRET_SVC_QUEUE', 'SECRET_SVC_AUDIENCE', 'SECRET_SVC_REDIS_PREFIX',
      'SECRET_SVC_MAX_CLOCK_SKEW', 'SECRET_SVC_MAX_VALUE_BYTES', 'SECRET_SVC_MAX_ENVELOPE_BYTES',
      'SECRET_SVC_WATCH_HISTORY', 'SECRET_SVC_MAX_WATCHES', 'SECRET_SVC_MAX_WATCHES_PER_CALLER',
    ]) expect(ENV_NAMES).toContain(name);
  });

  it('watch settings (docs/protocol.md §14): defaults, and a non-positive value names its variable', () => {
    const base = { SECRET_SVC_ISSUERS: ISSUER, SECRET_SVC_ENCRYPTION_KEY: KEY.toString('base64') };
    expect(loadConfig(base)).toMatchObject({ watchHistory: 100_000, maxWatches: 10_000, maxWatchesPerCaller: 16 });
    expect(loadConfig({ ...base, SECRET_SVC_WATCH_HISTORY: '5', SECRET_SVC_MAX_WATCHES: '7', SECRET_SVC_MAX_WATCHES_PER_CALLER: '2' }))
      .toMatchObject({ watchHistory: 5, maxWatches: 7, maxWatchesPerCaller: 2 });
    for (const name of ['SECRET_SVC_WATCH_HISTORY', 'SECRET_SVC_MAX_WATCHES', 'SECRET_SVC_MAX_WATCHES_PER_CALLER']) {
      expect(() => loadConfig({ ...base, [name]: '0' })).toThrow(new RegExp(name));
    }
  });
});

describe('loadConfig overrides', () => {
  it('reads every variable', () => {
    const c = loadConfig({
      ...base,
      REDIS_URL: 'redis://10.0.0.1:6380',
      SECRET_SVC_SUBJECT_PREFIX: 'acme.secret',
      SECRET_SVC_QUEUE: 'q1',
      SECRET_SVC_AUDIENCE: 'aud-1',
      SECRET_SVC_REDIS_PREFIX: 'x:',
      SECRET_SVC_MAX_CLOCK_SKEW: '5',
      SECRET_SVC_MAX_VALUE_BYTES: '1024',
      SECRET_SVC_MAX_ENVELOPE_BYTES: '4096',
    });
    expect(c).toMatchObject({
      redis: { mode: 'standalone', url: 'redis://10.0.0.1:6380' }, subjectPrefix: 'acme.secret', queue: 'q1', audience: 'aud-1',
      redisPrefix: 'x:', maxClockSkewMs: 5000, maxValueBytes: 1024, maxEnvelopeBytes: 4096,
    });
  });

  it('splits a comma-separated NATS_URL (spaces and empty entries dropped)', () => {
    const c = loadConfig({ ...base, NATS_URL: 'nats://a:4222, nats://b:4223 ,,nats://c:4224' });
    expect(c.natsServers).toEqual(['nats://a:4222', 'nats://b:4223', 'nats://c:4224']);
  });

  it('splits a comma-separated SECRET_SVC_ISSUERS', () => {
    const second = generateJwk().x;
    expect(loadConfig({ ...base, SECRET_SVC_ISSUERS: ` ${ISSUER} ,${second}` }).issuers).toEqual([ISSUER, second]);
  });

  it.each([
    ['SECRET_SVC_MAX_CLOCK_SKEW', '0'],
    ['SECRET_SVC_MAX_VALUE_BYTES', '-1'],
    ['SECRET_SVC_MAX_ENVELOPE_BYTES', 'lots'],
    ['SECRET_SVC_SUBJECT_PREFIX', 'secret.>'],
    ['SECRET_SVC_QUEUE', 'a b'],
  ])('refuses a bad %s, naming it', (name, value) => {
    expect(configError({ ...base, [name]: value }).message).toContain(name);
  });
});

describe('loadConfig refusals', () => {
  it.each([
    ['absent', {}],
    ['empty', { SECRET_SVC_ISSUERS: '' }],
    ['only commas', { SECRET_SVC_ISSUERS: ' , ' }],
  ])('refuses without SECRET_SVC_ISSUERS (%s), naming it', (_label, issuers) => {
    const env: Record<string, string> = { SECRET_SVC_ENCRYPTION_KEY: KEY_TEXT, ...issuers };
    expect(configError(env).message).toContain('SECRET_SVC_ISSUERS');
  });

  it('refuses an issuer that is not an Ed25519 public key', () => {
    expect(configError({ ...base, SECRET_SVC_ISSUERS: `${ISSUER},not-a-key` }).message).toContain('SECRET_SVC_ISSUERS');
  });

  it.each([
    ['the identity point', `AQ${'A'.repeat(41)}`],
    ['the all-zero key', 'A'.repeat(43)],
    ['a non-canonical y (p + 1)', Buffer.from(`ee${'ff'.repeat(30)}7f`, 'hex').toString('base64url')],
  ])('refuses a small-order or non-canonical issuer key (%s), naming SECRET_SVC_ISSUERS', (_label, bad) => {
    const message = configError({ ...base, SECRET_SVC_ISSUERS: `${ISSUER},${bad}` }).message;
    expect(message).toContain('SECRET_SVC_ISSUERS');
    expect(message).toMatch(/small order|not canonical/);
  });

  it('refuses without an encryption key, naming SECRET_SVC_ENCRYPTION_KEY', () => {
    expect(configError({ SECRET_SVC_ISSUERS: ISSUER }).message).toContain('SECRET_SVC_ENCRYPTION_KEY');
    expect(configError({ SECRET_SVC_ISSUERS: ISSUER, SECRET_SVC_ENCRYPTION_KEY: '' }).message).toContain('SECRET_SVC_ENCRYPTION_KEY');
  });

  it.each([
    ['not base64', 'not base64 at all!'],
    ['16 bytes', randomBytes(16).toString('base64')],
    ['31 bytes', randomBytes(31).toString('base64')],
    ['33 bytes', randomBytes(33).toString('base64')],
    ['64 bytes', randomBytes(64).toString('base64')],
    ['hex of 32 bytes', randomBytes(32).toString('hex')],
  ])('refuses a bad SECRET_SVC_ENCRYPTION_KEY (%s) without echoing it', (_label, text) => {
    const err = configError({ ...base, SECRET_SVC_ENCRYPTION_KEY: text });
    expect(err.message).toContain('SECRET_SVC_ENCRYPTION_KEY');
    expect(err.message).not.toContain(text);
  });

  it('refuses both SECRET_SVC_ENCRYPTION_KEY and SECRET_SVC_ENCRYPTION_KEY_FILE', () => {
    const file = join(dir, 'both.key');
    writeFileSync(file, KEY_TEXT);
    const err = configError({ ...base, SECRET_SVC_ENCRYPTION_KEY_FILE: file });
    expect(err.message).toContain('SECRET_SVC_ENCRYPTION_KEY');
    expect(err.message).toContain('SECRET_SVC_ENCRYPTION_KEY_FILE');
  });
});

describe('SECRET_SVC_ENCRYPTION_KEY_FILE', () => {
  it('reads the key, ignoring surrounding white space', () => {
    const file = join(dir, 'key.txt');
    writeFileSync(file, `\n  ${KEY_TEXT}\t\r\n\n`);
    const c = loadConfig({ SECRET_SVC_ISSUERS: ISSUER, SECRET_SVC_ENCRYPTION_KEY_FILE: file });
    expect(c.encryptionKeys.length).toBe(1);
    expect(Buffer.from(c.encryptionKeys[0]!).equals(KEY)).toBe(true);
  });

  it('refuses a file that cannot be read, naming the variable', () => {
    const err = configError({ SECRET_SVC_ISSUERS: ISSUER, SECRET_SVC_ENCRYPTION_KEY_FILE: join(dir, 'missing.key') });
    expect(err.message).toContain('SECRET_SVC_ENCRYPTION_KEY_FILE');
  });

  it('refuses a file with a bad key, naming the variable and not echoing the content', () => {
    const file = join(dir, 'short.key');
    const text = randomBytes(16).toString('base64');
    writeFileSync(file, `${text}\n`);
    const err = configError({ SECRET_SVC_ISSUERS: ISSUER, SECRET_SVC_ENCRYPTION_KEY_FILE: file });
    expect(err.message).toContain('SECRET_SVC_ENCRYPTION_KEY_FILE');
    expect(err.message).not.toContain(text);
  });
});

describe('the keyring (§13; the details in keyring-source.test.ts)', () => {
  const OTHER = randomBytes(32);
  const hex = (ring: Uint8Array[]) => ring.map((k) => Buffer.from(k).toString('hex'));

  it('SECRET_SVC_ENCRYPTION_KEYS gives the ring in order', () => {
    const c = loadConfig({ SECRET_SVC_ISSUERS: ISSUER, SECRET_SVC_ENCRYPTION_KEYS: `${OTHER.toString('base64')},${KEY_TEXT}` });
    expect(hex(c.encryptionKeys)).toEqual([OTHER.toString('hex'), KEY.toString('hex')]);
  });

  it('SECRET_SVC_ENCRYPTION_KEY_COMMAND gives the ring from its output', () => {
    const c = loadConfig({ SECRET_SVC_ISSUERS: ISSUER, SECRET_SVC_ENCRYPTION_KEY_COMMAND: `echo ${KEY_TEXT}; echo ${OTHER.toString('base64')}` });
    expect(hex(c.encryptionKeys)).toEqual([KEY.toString('hex'), OTHER.toString('hex')]);
  });

  it('two sources: a ConfigError naming both (exit status 2)', () => {
    const err = configError({ ...base, SECRET_SVC_ENCRYPTION_KEYS: KEY_TEXT });
    expect(err.message).toContain('SECRET_SVC_ENCRYPTION_KEY and SECRET_SVC_ENCRYPTION_KEYS');
    expect(err.exitCode).toBe(2);
  });

  it('a failing key command: a ConfigError carrying its exit status', () => {
    const err = configError({ SECRET_SVC_ISSUERS: ISSUER, SECRET_SVC_ENCRYPTION_KEY_COMMAND: 'echo locked >&2; exit 5' });
    expect(err.message).toBe('SECRET_SVC_ENCRYPTION_KEY_COMMAND: the command exited with status 5: locked');
    expect(err.exitCode).toBe(5);
  });

  it('does not run the key command when another setting is already refused', () => {
    const marker = join(dir, 'ran');
    configError({ SECRET_SVC_ENCRYPTION_KEY_COMMAND: `touch '${marker}'; echo ${KEY_TEXT}` }); // no issuers
    expect(existsSync(marker)).toBe(false);
  });
});
