/** The worker's in-flight bounds (src/limits.ts) and their configuration. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateJwk, UnavailableError } from '@secret-svc/protocol';
import { ConfigError, loadConfig } from '../../src/config.js';
import { InFlightLimits } from '../../src/limits.js';

const refused = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
};

describe('InFlightLimits', () => {
  it('admits up to maxInFlight requests, then 503 until one is released', () => {
    const limits = new InFlightLimits({ maxInFlight: 2, maxInFlightBytes: 1000, maxInFlightPerCaller: 2 });
    const first = limits.admit(10);
    limits.admit(10);
    expect(refused(() => limits.admit(10))).toBeInstanceOf(UnavailableError);
    first.release();
    first.release(); // a second release changes nothing
    expect(limits.inFlight).toEqual({ requests: 1, bytes: 10, callers: 0 });
    limits.admit(10);
    expect(refused(() => limits.admit(10))).toMatchObject({ status: 503, code: 'unavailable' });
  });

  it('bounds request bytes, but always admits a request alone', () => {
    const limits = new InFlightLimits({ maxInFlight: 10, maxInFlightBytes: 100, maxInFlightPerCaller: 10 });
    const huge = limits.admit(500);
    expect(refused(() => limits.admit(1))).toBeInstanceOf(UnavailableError);
    huge.release();
    const a = limits.admit(60);
    expect(refused(() => limits.admit(41))).toBeInstanceOf(UnavailableError);
    limits.admit(40);
    a.release();
    expect(limits.inFlight.bytes).toBe(40);
  });

  it('gives each caller key its share, and others theirs', () => {
    const limits = new InFlightLimits({ maxInFlight: 10, maxInFlightBytes: 1000, maxInFlightPerCaller: 2 });
    const held = [limits.admit(1), limits.admit(1)];
    held.forEach((h) => h.admitCaller('alice'));
    const third = limits.admit(1);
    expect(refused(() => third.admitCaller('alice'))).toBeInstanceOf(UnavailableError);
    third.admitCaller('bob');
    third.release();
    held[0]!.release();
    limits.admit(1).admitCaller('alice');
    expect(limits.inFlight).toEqual({ requests: 2, bytes: 2, callers: 1 });
  });
});

describe('SECRET_SVC_MAX_IN_FLIGHT*', () => {
  const base = { SECRET_SVC_ISSUERS: generateJwk().x, SECRET_SVC_ENCRYPTION_KEY: randomBytes(32).toString('base64') };

  it('defaults: 512 requests, 64 MiB, a quarter per caller key', () => {
    expect(loadConfig(base)).toMatchObject({ maxInFlight: 512, maxInFlightBytes: 64 * 1024 * 1024, maxInFlightPerCaller: 128 });
    expect(loadConfig({ ...base, SECRET_SVC_MAX_IN_FLIGHT: '3' })).toMatchObject({ maxInFlight: 3, maxInFlightPerCaller: 1 });
  });

  it('reads each, and refuses a per-caller share above the whole', () => {
    const c = loadConfig({ ...base, SECRET_SVC_MAX_IN_FLIGHT: '40', SECRET_SVC_MAX_IN_FLIGHT_BYTES: '1000', SECRET_SVC_MAX_IN_FLIGHT_PER_CALLER: '40' });
    expect(c).toMatchObject({ maxInFlight: 40, maxInFlightBytes: 1000, maxInFlightPerCaller: 40 });
    expect(refused(() => loadConfig({ ...base, SECRET_SVC_MAX_IN_FLIGHT: '4', SECRET_SVC_MAX_IN_FLIGHT_PER_CALLER: '5' }))).toBeInstanceOf(ConfigError);
    expect(refused(() => loadConfig({ ...base, SECRET_SVC_MAX_IN_FLIGHT: '0' }))).toBeInstanceOf(ConfigError);
  });
});
