/**
 * The authenticate step's two branches (docs/protocol.md §3, §12): a session request yields the
 * same caller and nonce namespace as a signed one, plus its reply keys, and the caller check
 * (revocation's hook) refuses session requests as it refuses signed ones.
 */
import { describe, expect, it } from 'vitest';
import {
  agree, buildEnvelope, buildSessionEnvelope, deriveSessionKeys, fromBase64url, generateSessionKeyPair, privateKeyObject,
  requestHead, toBase64url, UnauthenticatedError, type Encoding,
} from '@secret-svc/protocol';
import { Authenticator, type Known } from '../../src/auth/authenticate.js';
import type { Caller } from '../../src/auth/caller.js';
import { openSession } from '../../src/session/handshake.js';
import { TicketBox } from '../../src/session/tickets.js';
import { TestIssuer } from '../helpers/identities.js';
import { ringKey } from './session-fixtures.js';
import { Sealer } from '../../src/store/seal.js';

const issuer = new TestIssuer();
const me = issuer.caller('app-auth');
const tickets = new TicketBox(new Sealer([ringKey()]));
let refused: string | undefined;
const auth = new Authenticator({
  issuers: [issuer.publicKey], audience: 'secret-svc', maxClockSkewMs: 60_000, maxEnvelopeBytes: 262_144, tickets,
  checkCaller: (caller: Caller) => {
    if (caller.slug === refused) throw new UnauthenticatedError('credential has been revoked');
  },
});

function opened(encoding: Encoding) {
  const now = Date.now();
  const own = generateSessionKeyPair();
  const body = buildEnvelope(me.credential, privateKeyObject(me.key), { ...requestHead('session', 'secret-svc', now), epk: toBase64url(own.publicKey) }, encoding);
  const signed = auth.authenticate('session', body, now, { encoding });
  expect(signed.session).toBeUndefined();
  const reply = openSession(signed.caller, signed.request.epk, now, { tickets, ttlMs: 60_000 });
  const spk = fromBase64url(reply.spk)!;
  return { signed, handle: { ticket: reply.ticket, keys: deriveSessionKeys(agree(own.privateKey, spk), own.publicKey, spk) } };
}

describe.each(['json', 'msgpack'] as const)('Authenticator with sessions (%s)', (encoding) => {
  it('a session request yields the signed caller, the same nonce namespace, and its reply keys', () => {
    const { signed, handle } = opened(encoding);
    const built = buildSessionEnvelope(handle, { ...requestHead('update', 'secret-svc'), key: 'a/b', value: 'x' }, encoding);
    const known: Known = { encoding };
    const got = auth.authenticate('update', built.body, Date.now(), known);
    expect(got.caller).toEqual(signed.caller);
    expect(got.nonce.callerKeyId).toBe(signed.nonce.callerKeyId);
    expect(got.nonce.digest).toHaveLength(22); // a write: its resend is recognised
    expect(Buffer.from(got.session!.mac).equals(built.mac)).toBe(true);
    expect(Buffer.from(got.session!.replyKey).equals(Buffer.from(handle.keys.replyKey))).toBe(true);
    expect(known.session).toBe(true);
  });

  it('the caller check refuses a session request once the credential is refused (revocation)', () => {
    const { handle } = opened(encoding);
    refused = 'app-auth';
    try {
      const known: Known = { encoding };
      const body = buildSessionEnvelope(handle, requestHead('whoami', 'secret-svc'), encoding).body;
      expect(() => auth.authenticate('whoami', body, Date.now(), known)).toThrow('credential has been revoked');
      expect(known.caller?.slug).toBe('app-auth');
    } finally {
      refused = undefined;
    }
  });

  it('checks op = subject and the schema of the opened request object (400)', () => {
    const { handle } = opened(encoding);
    const body = buildSessionEnvelope(handle, requestHead('read', 'secret-svc'), encoding).body;
    expect(() => auth.authenticate('list', body, Date.now(), { encoding })).toThrow(/"op" is "read"/);
    expect(() => auth.authenticate('read', body, Date.now(), { encoding })).toThrow(/exactly one of "key" and "keys"/);
  });
});
