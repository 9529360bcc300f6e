/** The audit settings (docs/protocol.md §7, §11): defaults, and out-of-range values refused by name. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateJwk } from '@secret-svc/protocol';
import { ConfigError, ENV_NAMES, loadConfig } from '../../src/config.js';

const base = { SECRET_SVC_ISSUERS: generateJwk().x, SECRET_SVC_ENCRYPTION_KEY: randomBytes(32).toString('base64') };

describe('audit settings', () => {
  it('defaults to a JetStream trail in SECRET_SVC_AUDIT, 90 days, 1 GiB', () => {
    expect(loadConfig(base).audit).toEqual({ mode: 'jetstream', stream: 'SECRET_SVC_AUDIT', maxAgeSeconds: 7_776_000, maxBytes: 1_073_741_824 });
  });

  it('reads every variable', () => {
    const c = loadConfig({ ...base, SECRET_SVC_AUDIT: 'off', SECRET_SVC_AUDIT_STREAM: 'AUDIT-2', SECRET_SVC_AUDIT_MAX_AGE: '86400', SECRET_SVC_AUDIT_MAX_BYTES: '10485760' });
    expect(c.audit).toEqual({ mode: 'off', stream: 'AUDIT-2', maxAgeSeconds: 86_400, maxBytes: 10_485_760 });
    for (const name of ['SECRET_SVC_AUDIT', 'SECRET_SVC_AUDIT_STREAM', 'SECRET_SVC_AUDIT_MAX_AGE', 'SECRET_SVC_AUDIT_MAX_BYTES']) expect(ENV_NAMES).toContain(name);
  });

  it.each([
    ['SECRET_SVC_AUDIT', 'file'],
    ['SECRET_SVC_AUDIT_STREAM', 'audit.trail'],
    ['SECRET_SVC_AUDIT_STREAM', 'a b'],
    ['SECRET_SVC_AUDIT_MAX_AGE', '0'],
    ['SECRET_SVC_AUDIT_MAX_AGE', '-5'],
    ['SECRET_SVC_AUDIT_MAX_AGE', '1.5'],
    ['SECRET_SVC_AUDIT_MAX_AGE', '90d'],
    ['SECRET_SVC_AUDIT_MAX_AGE', '99999999999'],
    ['SECRET_SVC_AUDIT_MAX_BYTES', '1024'],
    ['SECRET_SVC_AUDIT_MAX_BYTES', '1e30'],
    ['SECRET_SVC_AUDIT_MAX_BYTES', 'lots'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    let thrown: unknown;
    try {
      loadConfig({ ...base, [name]: value });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toMatch(new RegExp(`^${name}: `));
  });
});
