/** The worker's in-flight bounds (src/limits.ts) and their configuration. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateJwk, UnavailableError } from '@secret-svc/protocol';
import { ConfigError, loadConfig } from '../../src/config.js';
import { ALONE_BUDGETS, CONTENTION_WINDOW_MS, HANDSHAKE_BURST_SECONDS, HANDSHAKE_WORK, InFlightLimits, workOf, type InFlightBounds } from '../../src/limits.js';

/** Bounds with the cost budgets out of the way unless a test sets them. */
const bounds = (b: Partial<InFlightBounds>): InFlightBounds => ({
  maxInFlight: 10, maxInFlightBytes: 1000, maxInFlightPerCaller: 10,
  maxReplyBytes: 1_000_000, maxWorkPerCaller: 1_000_000, maxReplyBytesPerCaller: 1_000_000, maxHandshakesPerCaller: 1000, ...b,
});

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
    const limits = new InFlightLimits(bounds({ maxInFlight: 2, maxInFlightPerCaller: 2 }));
    const first = limits.admit(10);
    limits.admit(10);
    expect(refused(() => limits.admit(10))).toBeInstanceOf(UnavailableError);
    first.release();
    first.release(); // a second release changes nothing
    expect(limits.inFlight).toEqual({ requests: 1, bytes: 10, callers: 0, replyBytes: 0 });
    limits.admit(10);
    expect(refused(() => limits.admit(10))).toMatchObject({ status: 503, code: 'unavailable' });
  });

  it('bounds request bytes, but always admits a request alone', () => {
    const limits = new InFlightLimits(bounds({ maxInFlightBytes: 100 }));
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
    const limits = new InFlightLimits(bounds({ maxInFlightPerCaller: 2 }));
    const held = [limits.admit(1), limits.admit(1)];
    held.forEach((h) => h.admitCaller('alice', 1));
    const third = limits.admit(1);
    expect(refused(() => third.admitCaller('alice', 1))).toBeInstanceOf(UnavailableError);
    third.admitCaller('bob', 1);
    third.release();
    held[0]!.release();
    limits.admit(1).admitCaller('alice', 1);
    expect(limits.inFlight).toEqual({ requests: 2, bytes: 2, callers: 1, replyBytes: 0 });
  });

  it('bounds each caller key\'s work in flight by cost, not count, while another caller is active; a request alone always fits', () => {
    let now = 0;
    const limits = new InFlightLimits(bounds({ maxWorkPerCaller: 1000 }), () => now);
    // Alone on the worker, a caller may use ALONE_BUDGETS budgets.
    const alone = Array.from({ length: ALONE_BUDGETS }, () => limits.admit(1));
    alone.forEach((a) => a.admitCaller('alice', 1000));
    const beyond = limits.admit(1);
    expect((refused(() => beyond.admitCaller('alice', 1)) as Error).message).toContain(`(${ALONE_BUDGETS * 1000} units`);
    [...alone, beyond].forEach((a) => a.release());
    now = 10;
    limits.admit(1).admitCaller('carol', 1); // another caller: contended from now on
    now = 20;
    const list = limits.admit(1);
    list.admitCaller('alice', 1000);
    const more = limits.admit(1);
    const err = refused(() => more.admitCaller('alice', 1));
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toContain('too much work in flight for this credential key (1000 units');
    more.admitCaller('bob', 1000);
    list.release();
    limits.admit(1).admitCaller('alice', 1000);
    expect(workOf('list', { op: 'list', aud: 'a', ts: 0, nonce: 'n', limit: 1000 })).toBe(1000);
    expect(workOf('list', { op: 'list', aud: 'a', ts: 0, nonce: 'n' })).toBe(100);
    expect(workOf('read', { op: 'read', aud: 'a', ts: 0, nonce: 'n', keys: ['a', 'b', 'c'] })).toBe(3);
    expect(workOf('read', { op: 'read', aud: 'a', ts: 0, nonce: 'n', key: 'a' })).toBe(1);
    expect(workOf('session', { op: 'session', aud: 'a', ts: 0, nonce: 'n', epk: 'x' })).toBe(HANDSHAKE_WORK);
  });

  it('reserves reply bytes per caller key while another is active: grants what is left, 503 below the minimum, a first reply always', () => {
    let now = 0;
    const limits = new InFlightLimits(bounds({ maxReplyBytesPerCaller: 1000 }), () => now);
    const alone = limits.admit(1);
    alone.admitCaller('alice', 1);
    expect(alone.reply.reserve(100, 5000)).toBe(5000); // alone: no per-caller budget
    alone.release();
    limits.admit(1).admitCaller('carol', 1);
    now = CONTENTION_WINDOW_MS; // carol was admitted within the window
    const a = limits.admit(1);
    a.admitCaller('alice', 1);
    expect(a.reply.reserve(100, 600)).toBe(600);
    const b = limits.admit(1);
    b.admitCaller('alice', 1);
    expect(b.reply.reserve(100, 600)).toBe(400); // what is left
    const c = limits.admit(1);
    c.admitCaller('alice', 1);
    const busy = refused(() => c.reply.reserve(100, 600));
    expect(busy).toBeInstanceOf(UnavailableError);
    expect((busy as Error).message).toContain('too many reply bytes in flight for this credential key (1000)');
    a.reply.settle(50); // the reply held less than granted
    expect(c.reply.reserve(100, 600)).toBe(550);
    b.release();
    c.release();
    const d = limits.admit(1);
    d.admitCaller('alice', 1);
    expect(d.reply.reserve(900, 2000)).toBe(950);
    a.release();
    // Alone (nothing else reserved), a reply larger than the budget still fits.
    const f = limits.admit(1);
    f.admitCaller('alice', 1);
    d.release();
    expect(f.reply.reserve(1500, 1500)).toBe(1500);
    // Another caller key has its own budget.
    const e = limits.admit(1);
    e.admitCaller('bob', 1);
    expect(e.reply.reserve(1000, 1000)).toBe(1000);
  });

  it('bounds the reply bytes of all callers on the worker, contended or not', () => {
    const limits = new InFlightLimits(bounds({ maxReplyBytes: 1500, maxReplyBytesPerCaller: 1000 }));
    const a = limits.admit(1);
    a.admitCaller('alice', 1);
    expect(a.reply.reserve(100, 1000)).toBe(1000);
    const b = limits.admit(1);
    b.admitCaller('alice', 1);
    expect(b.reply.reserve(100, 1000)).toBe(500);
    const c = limits.admit(1);
    c.admitCaller('alice', 1);
    expect((refused(() => c.reply.reserve(100, 1000)) as Error).message).toContain('over 1500 reply bytes in flight');
    a.release();
    expect(limits.inFlight.replyBytes).toBe(500);
  });

  it('bounds session handshakes per caller key per second after a burst, refilled over time', () => {
    let now = 0;
    const limits = new InFlightLimits(bounds({ maxHandshakesPerCaller: 3 }), () => now);
    const shake = (key: string) => {
      const a = limits.admit(1);
      try {
        a.admitCaller(key, HANDSHAKE_WORK, true);
      } finally {
        a.release();
      }
    };
    for (let i = 0; i < 3 * HANDSHAKE_BURST_SECONDS; i++) shake('alice');
    const err = refused(() => shake('alice'));
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toContain('too many session handshakes for this credential key (3 per second)');
    shake('bob');
    now = 400; // 1.2 handshakes refilled
    shake('alice');
    expect(refused(() => shake('alice'))).toBeInstanceOf(UnavailableError);
    expect(limits.inFlight).toEqual({ requests: 0, bytes: 0, callers: 0, replyBytes: 0 });
  });

  it('prechecks a caller key before its signature: refused when full, and nothing taken either way', () => {
    let now = 0;
    const limits = new InFlightLimits(bounds({ maxInFlightPerCaller: 1, maxHandshakesPerCaller: 1 }), () => now);
    limits.precheck('alice', true); // room: nothing taken
    const a = limits.admit(1);
    a.admitCaller('alice', 1);
    expect((refused(() => limits.precheck('alice', false)) as Error).message).toContain('too many requests in flight for this credential key (1)');
    limits.precheck('bob', false);
    a.release();
    for (let i = 0; i < HANDSHAKE_BURST_SECONDS; i++) {
      limits.precheck('alice', true);
      const h = limits.admit(1);
      h.admitCaller('alice', HANDSHAKE_WORK, true);
      h.release();
    }
    expect((refused(() => limits.precheck('alice', true)) as Error).message).toContain('too many session handshakes');
    limits.precheck('alice', false); // other requests still pass
    now = 1000;
    limits.precheck('alice', true);
  });
});

describe('SECRET_SVC_MAX_IN_FLIGHT*', () => {
  const base = { SECRET_SVC_ISSUERS: generateJwk().x, SECRET_SVC_ENCRYPTION_KEY: randomBytes(32).toString('base64') };

  it('defaults: 512 requests, 64 MiB, a quarter per caller key, 64 MiB of replies; per caller key 1000 work units, 1 MiB of replies, 10 handshakes a second', () => {
    expect(loadConfig(base)).toMatchObject({
      maxInFlight: 512, maxInFlightBytes: 64 * 1024 * 1024, maxInFlightPerCaller: 128,
      maxReplyBytes: 64 * 1024 * 1024, maxWorkPerCaller: 1000, maxReplyBytesPerCaller: 1024 * 1024, maxHandshakesPerCaller: 10,
    });
    expect(loadConfig({ ...base, SECRET_SVC_MAX_IN_FLIGHT: '3' })).toMatchObject({ maxInFlight: 3, maxInFlightPerCaller: 1 });
  });

  it('reads each, and refuses a per-caller share above the whole', () => {
    const c = loadConfig({ ...base, SECRET_SVC_MAX_IN_FLIGHT: '40', SECRET_SVC_MAX_IN_FLIGHT_BYTES: '1000', SECRET_SVC_MAX_IN_FLIGHT_PER_CALLER: '40' });
    expect(c).toMatchObject({ maxInFlight: 40, maxInFlightBytes: 1000, maxInFlightPerCaller: 40 });
    expect(refused(() => loadConfig({ ...base, SECRET_SVC_MAX_IN_FLIGHT: '4', SECRET_SVC_MAX_IN_FLIGHT_PER_CALLER: '5' }))).toBeInstanceOf(ConfigError);
    expect(refused(() => loadConfig({ ...base, SECRET_SVC_MAX_IN_FLIGHT: '0' }))).toBeInstanceOf(ConfigError);
  });

  it('reads the per-caller cost budgets, and refuses one too small for a request alone', () => {
    const c = loadConfig({ ...base, SECRET_SVC_MAX_WORK_PER_CALLER: '5000', SECRET_SVC_MAX_REPLY_BYTES_PER_CALLER: '8388608', SECRET_SVC_MAX_HANDSHAKES_PER_CALLER: '2' });
    expect(c).toMatchObject({ maxWorkPerCaller: 5000, maxReplyBytesPerCaller: 8388608, maxHandshakesPerCaller: 2 });
    expect(refused(() => loadConfig({ ...base, SECRET_SVC_MAX_WORK_PER_CALLER: '999' }))).toMatchObject({ message: expect.stringContaining('SECRET_SVC_MAX_WORK_PER_CALLER') });
    expect(refused(() => loadConfig({ ...base, SECRET_SVC_MAX_REPLY_BYTES_PER_CALLER: '1000' }))).toBeInstanceOf(ConfigError);
    expect(refused(() => loadConfig({ ...base, SECRET_SVC_MAX_HANDSHAKES_PER_CALLER: '0' }))).toBeInstanceOf(ConfigError);
  });
});
