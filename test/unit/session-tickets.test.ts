/** Tickets (docs/protocol.md §12): sealed under a key derived from the ring, opened by any ring key, retired with it. */
import { hkdfSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { open, UnauthenticatedError } from '@secret-svc/protocol/internal';
import { keyIdOf } from '../../src/keyring-source.js';
import { SESSION_INVALID_MESSAGE, TicketBox } from '../../src/session/tickets.js';
import { type TicketContents } from '../../src/session/ticket-codec.js';
import { deploymentSalt } from '../../src/session/tickets.js';
import { Sealer } from '../../src/store/seal.js';
import { ringKey, sessionCaller } from './session-fixtures.js';
import { thrownBy } from './fixtures.js';

const NOW = 1_764_000_000_000;

function contents(overrides: Partial<TicketContents> = {}): TicketContents {
  return {
    caller: sessionCaller({ admin: true, expiresAtMs: NOW + 7_200_000.5 }),
    keys: { macKey: randomBytes(32), replyKey: randomBytes(32), requestKey: randomBytes(32) },
    expiresAtMs: NOW + 3_600_000,
    ...overrides,
  };
}

function refused(box: TicketBox, text: string, nowMs = NOW): void {
  const err = thrownBy(() => box.open(text, nowMs));
  expect(err).toBeInstanceOf(UnauthenticatedError);
  expect((err as Error).message).toBe(SESSION_INVALID_MESSAGE);
}

describe('ticket round trip', () => {
  const box = new TicketBox(new Sealer([ringKey()]));

  it('opens to exactly what was sealed: caller, session keys, expiry', () => {
    const c = contents();
    const text = box.seal(c);
    expect(text).toMatch(/^[A-Za-z0-9_-]{1,1024}$/);
    expect(box.open(text, NOW)).toEqual(c);
  });

  it('keeps absent claims absent (no jti, iat, exp) and the admin flag false', () => {
    const c = contents({ caller: sessionCaller({ admin: false, jti: null, issuedAtMs: null, expiresAtMs: null }) });
    expect(box.open(box.seal(c), NOW)).toEqual(c);
  });

  it('stays within 1024 characters with the longest slug and jti (128 three-byte characters)', () => {
    const c = contents({ caller: sessionCaller({ slug: `a${'b'.repeat(62)}c`, jti: '€'.repeat(128) }) });
    const text = box.seal(c);
    expect(text.length).toBeLessThanOrEqual(1024);
    expect(box.open(text, NOW)).toEqual(c);
  });

  it('seals twice to two different texts (a fresh nonce each time)', () => {
    const c = contents();
    expect(box.seal(c)).not.toBe(box.seal(c));
  });

  it('carries the ring key id in clear and seals under HKDF(key, salt = the deployment, "secret-svc/v1 ticket"), not the key itself', () => {
    const key = ringKey();
    const text = new TicketBox(new Sealer([key])).seal(contents());
    const bytes = Buffer.from(text, 'base64url');
    expect(bytes[0]).toBe(1);
    expect(bytes.subarray(1, 5).toString('hex')).toBe(keyIdOf(key));
    const sealed = bytes.subarray(5);
    expect(open(key, sealed)).toBeUndefined();
    expect(open(Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), Buffer.from('secret-svc/v1 ticket'), 32)), sealed)).toBeUndefined();
    // The defaults: audience "secret-svc", subject prefix "secret", each after its 2-byte length.
    const salt = Buffer.concat([Buffer.from([0, 10]), Buffer.from('secret-svc'), Buffer.from([0, 6]), Buffer.from('secret')]);
    expect(deploymentSalt({ audience: 'secret-svc', subjectPrefix: 'secret' })).toEqual(salt);
    const derived = Buffer.from(hkdfSync('sha256', key, salt, Buffer.from('secret-svc/v1 ticket'), 32));
    expect(open(derived, sealed)).toBeDefined();
  });
});

describe('tickets that do not open: 401, session no longer valid', () => {
  const box = new TicketBox(new Sealer([ringKey()]));
  const text = box.seal(contents());

  it('any character changed', () => {
    for (const i of [0, 3, 6, 10, 40, text.length - 2, text.length - 1]) {
      const c = text[i] === 'A' ? 'B' : 'A';
      refused(box, `${text.slice(0, i)}${c}${text.slice(i + 1)}`);
    }
  });

  it('cut short or extended', () => {
    refused(box, text.slice(0, -4));
    refused(box, text.slice(0, 8));
    refused(box, `${text}AAAA`);
  });

  it.each([
    ['empty', ''],
    ['one character', 'a'],
    ['foreign characters', 'abc!def'],
    ['padding', `${text}=`],
    ['far too long', 'A'.repeat(5000)],
    ['non-canonical last character', 'AB'],
  ])('whatever its length or characters (%s)', (_label, t) => refused(box, t));

  it('from another deployment (another ring)', () => {
    refused(new TicketBox(new Sealer([ringKey()])), text);
  });
});

describe('tickets are bound to their deployment (§15)', () => {
  const ring = [ringKey()];
  const prod = { audience: 'secret-svc-prod', subjectPrefix: 'secret' };
  const text = new TicketBox(new Sealer(ring), prod).seal(contents());

  it('open on a worker with the same audience and subject prefix (built from the store\'s Sealer too)', () => {
    expect(new TicketBox(new Sealer(ring), prod).open(text, NOW).caller.slug).toBe('app-1');
    expect(new TicketBox(new Sealer(ring), { ...prod }).open(text, NOW).caller.slug).toBe('app-1');
  });

  it.each([
    ['another audience', { audience: 'secret-svc-staging', subjectPrefix: 'secret' }],
    ['another subject prefix', { audience: 'secret-svc-prod', subjectPrefix: 'staging.secret' }],
    ['the two settings shifted into each other', { audience: 'secret-svc-pro', subjectPrefix: 'dsecret' }],
  ])('not with the same keyring and %s', (_label, other) => {
    refused(new TicketBox(new Sealer(ring), other), text);
  });
});

describe('ticket expiry (no skew allowance)', () => {
  const box = new TicketBox(new Sealer([ringKey()]));
  const c = contents();
  const text = box.seal(c);

  it('opens until its expiry, then 401 — also once cached', () => {
    expect(box.open(text, c.expiresAtMs - 1)).toEqual(c);
    refused(box, text, c.expiresAtMs);
    refused(box, text, c.expiresAtMs + 1);
    expect(box.open(text, c.expiresAtMs - 1000)).toEqual(c);
  });
});

describe('key rotation retires tickets', () => {
  const oldKey = ringKey();
  const newKey = ringKey();
  const oldTicket = new TicketBox(new Sealer([oldKey])).seal(contents());

  it('a ticket sealed under [old] opens under [old, new] and [new, old]', () => {
    expect(new TicketBox(new Sealer([oldKey, newKey])).open(oldTicket, NOW).caller.slug).toBe('app-1');
    expect(new TicketBox(new Sealer([newKey, oldKey])).open(oldTicket, NOW).caller.slug).toBe('app-1');
  });

  it('but not under [new]', () => {
    refused(new TicketBox(new Sealer([newKey])), oldTicket);
  });

  it('[new, old] seals under new: its tickets open under [new] and no longer under [old]', () => {
    const t = new TicketBox(new Sealer([newKey, oldKey])).seal(contents());
    expect(new TicketBox(new Sealer([newKey])).open(t, NOW).caller.slug).toBe('app-1');
    refused(new TicketBox(new Sealer([oldKey])), t);
  });
});

describe('the cache of opened tickets', () => {
  it('stays within its byte bound however many tickets are opened', () => {
    const box = new TicketBox(new Sealer([ringKey()]), undefined, 20_000);
    const texts = Array.from({ length: 200 }, () => box.seal(contents()));
    for (const t of texts) box.open(t, NOW);
    expect(box.cachedBytes).toBeGreaterThan(0);
    expect(box.cachedBytes).toBeLessThanOrEqual(20_000);
    // evicted tickets still open (from their text, again)
    expect(box.open(texts[0]!, NOW).caller.slug).toBe('app-1');
  });
});
