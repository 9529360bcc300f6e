/** The session request check (docs/protocol.md §12) in its order, and the sealed success reply. */
import { describe, expect, it } from 'vitest';
import {
  agree, BadRequestError, buildSessionEnvelope, decodeBody, deriveSessionKeys, encodeBody, fromBase64url,
  generateSessionKeyPair, openSessionReplyObject, parseRequestEnvelope, seal, sessionMac, SessionReplyError, toBase64url,
  UnauthenticatedError, type Encoding, type SessionEnvelope, type SessionHandle,
} from '@secret-svc/protocol/internal';
import { openSession } from '../../src/session/handshake.js';
import { sealSuccessObject, sealedReplyBytes } from '../../src/session/reply.js';
import { SESSION_INVALID_MESSAGE, TicketBox } from '../../src/session/tickets.js';
import { SessionGate } from '../../src/session/request.js';
import { type Caller as SessionCaller } from '../../src/auth/caller.js';
import { flipByte, thrownBy } from './fixtures.js';
import { ringKey, sessionCaller, SKEW_MS } from './session-fixtures.js';
import { Sealer } from '../../src/store/seal.js';

const NOW = 1_764_000_000_000;
const TTL = 3_600_000;
const request = { op: 'read', aud: 'secret-svc', ts: NOW, nonce: 'n'.repeat(22), key: 'db/password' };

function setUp(o: { caller?: SessionCaller; revoked?: (c: SessionCaller) => boolean; issuers?: string[] } = {}) {
  const tickets = new TicketBox(new Sealer([ringKey()]));
  const own = generateSessionKeyPair();
  const caller = o.caller ?? sessionCaller();
  const reply = openSession(caller, toBase64url(own.publicKey), NOW, { tickets, ttlMs: TTL });
  const spk = fromBase64url(reply.spk)!;
  const session: SessionHandle = { ticket: reply.ticket, keys: deriveSessionKeys(agree(own.privateKey, spk), own.publicKey, spk) };
  const gate = new SessionGate({
    tickets,
    issuers: new Set(o.issuers ?? [caller.issuer]),
    maxClockSkewMs: SKEW_MS,
    checkCaller: (c) => {
      if (o.revoked?.(c)) throw new UnauthenticatedError('credential has been revoked');
    },
  });
  return { tickets, session, gate, caller };
}

/** The gate run as authentication runs it: `known.caller` is set once the ticket named the caller. */
function checkAs(gate: SessionGate, op: string, envelope: SessionEnvelope, encoding: Encoding, nowMs: number, known: { caller?: SessionCaller }) {
  return gate.check(op, envelope, encoding, nowMs, (caller) => { known.caller = caller; });
}

/** The envelope the worker parses from a body built for `session`. */
function envelopeOf(session: SessionHandle, object: object, encoding: Encoding): { envelope: SessionEnvelope; mac: Buffer } {
  const built = buildSessionEnvelope(session, object, encoding);
  const parsed = parseRequestEnvelope(built.body, encoding);
  if (parsed.kind !== 'session') throw new Error('not a session envelope');
  return { envelope: parsed.envelope, mac: built.mac };
}

/** A well-formed envelope with the given sealed payload and a correct MAC. */
function withPayload(session: SessionHandle, payload: Buffer): SessionEnvelope {
  return { ticket: session.ticket, payload, mac: sessionMac(session.keys.macKey, session.ticket, payload) };
}

describe.each(['json', 'msgpack'] as Encoding[])('%s session request', (encoding) => {
  it('passes every check: the caller from the ticket, the request object, the reply keys', () => {
    const { session, gate, caller } = setUp();
    const { envelope, mac } = envelopeOf(session, request, encoding);
    const known: { caller?: SessionCaller } = {};
    const checked = checkAs(gate, 'read', envelope, encoding, NOW, known);
    expect(checked.caller).toEqual(caller);
    expect(known.caller).toEqual(caller);
    expect(checked.request).toEqual(request);
    expect(Buffer.from(checked.reply.mac).equals(mac)).toBe(true);

    // The success reply is sealed for this request only.
    const body = sealSuccessObject(checked.reply, { key: 'db/password', value: 'v' }, encoding);
    expect(body.byteLength).toBeLessThanOrEqual(sealedReplyBytes(encodeBody({ key: 'db/password', value: 'v' }, encoding).byteLength, encoding));
    const decoded = decodeBody(body, encoding);
    expect(Object.keys(decoded as object)).toEqual(['sealed']);
    expect(openSessionReplyObject(session.keys.replyKey, mac, decoded, encoding)).toEqual({ key: 'db/password', value: 'v' });
    const other = envelopeOf(session, request, encoding).mac;
    expect(thrownBy(() => openSessionReplyObject(session.keys.replyKey, other, decoded, encoding))).toBeInstanceOf(SessionReplyError);
  });

  it('digest: the same sealed bytes resent give the same digest, the same object sealed again another', () => {
    const { session, gate } = setUp();
    const first = envelopeOf(session, request, encoding).envelope;
    const again = envelopeOf(session, request, encoding).envelope;
    const d1 = gate.check('read', first, encoding, NOW).digest;
    expect(gate.check('read', first, encoding, NOW).digest).toBe(d1);
    expect(gate.check('read', again, encoding, NOW).digest).not.toBe(d1);
    expect(d1).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('a session request inside a session envelope is 400, checked first (even with a bad ticket)', () => {
    const { session, gate } = setUp();
    const { envelope } = envelopeOf(session, { ...request, op: 'session' }, encoding);
    expect(thrownBy(() => gate.check('session', envelope, encoding, NOW))).toBeInstanceOf(BadRequestError);
    expect(thrownBy(() => gate.check('session', { ...envelope, ticket: 'garbage' }, encoding, NOW))).toBeInstanceOf(BadRequestError);
  });

  it('a ticket that does not open is 401 "no longer valid", before the MAC', () => {
    const { session, gate } = setUp();
    const { envelope } = envelopeOf(session, request, encoding);
    const known: { caller?: SessionCaller } = {};
    const err = thrownBy(() => checkAs(gate, 'read', { ...envelope, ticket: `${envelope.ticket.slice(0, -3)}AAA`, mac: flipByte(envelope.mac, 0) }, encoding, NOW, known));
    expect(err).toBeInstanceOf(UnauthenticatedError);
    expect((err as Error).message).toBe(SESSION_INVALID_MESSAGE);
    expect(known.caller).toBeUndefined();
  });

  it('a ticket from another deployment is 401 "no longer valid"', () => {
    const { session } = setUp();
    const { gate } = setUp();
    const err = thrownBy(() => gate.check('read', envelopeOf(session, request, encoding).envelope, encoding, NOW));
    expect((err as Error).message).toBe(SESSION_INVALID_MESSAGE);
  });

  it('an expired ticket is 401 "no longer valid" (no skew allowance)', () => {
    const { session, gate } = setUp();
    const { envelope } = envelopeOf(session, request, encoding);
    expect(gate.check('read', envelope, encoding, NOW + TTL - 1).caller.slug).toBe('app-1');
    const err = thrownBy(() => gate.check('read', envelope, encoding, NOW + TTL));
    expect(err).toMatchObject({ status: 401, message: SESSION_INVALID_MESSAGE });
  });

  it('a credential past its exp plus skew is 401 even when the ticket has not expired', () => {
    const tickets = new TicketBox(new Sealer([ringKey()]));
    const { session } = setUp();
    // A ticket outliving its credential cannot come from openSession; sealed by hand to reach this check.
    const caller = sessionCaller({ expiresAtMs: NOW });
    const ticket = tickets.seal({ caller, keys: session.keys, expiresAtMs: NOW + TTL });
    const gate = new SessionGate({ tickets, issuers: new Set([caller.issuer]), maxClockSkewMs: SKEW_MS });
    const { envelope } = envelopeOf({ ticket, keys: session.keys }, request, encoding);
    expect(gate.check('read', envelope, encoding, NOW + SKEW_MS).caller).toEqual(caller);
    expect(thrownBy(() => gate.check('read', envelope, encoding, NOW + SKEW_MS + 1))).toMatchObject({ status: 401, message: 'credential has expired' });
  });

  it('a credential whose issuer left SECRET_SVC_ISSUERS is 401 (§15), the caller not known, before the MAC', () => {
    const { session, gate } = setUp({ issuers: [sessionCaller().issuer] });
    const { envelope } = envelopeOf(session, request, encoding);
    const known: { caller?: SessionCaller } = {};
    expect(thrownBy(() => checkAs(gate, 'read', { ...envelope, mac: Buffer.alloc(32) }, encoding, NOW, known)))
      .toMatchObject({ status: 401, message: 'credential issuer is not trusted' });
    expect(known.caller).toBeUndefined();
  });

  it('a revoked credential is 401 from the caller hook, before the MAC, with the caller known', () => {
    const { session, gate } = setUp({ revoked: (c) => c.jti === 'jti-1' });
    const { envelope } = envelopeOf(session, request, encoding);
    const known: { caller?: SessionCaller } = {};
    const err = thrownBy(() => checkAs(gate, 'read', { ...envelope, mac: flipByte(envelope.mac, 5) }, encoding, NOW, known));
    expect(err).toMatchObject({ status: 401, message: 'credential has been revoked' });
    expect(known.caller?.slug).toBe('app-1');
  });

  it('a tampered MAC, or an altered payload (its MAC no longer matches), is 401 with the caller known', () => {
    const { session, gate } = setUp();
    const { envelope } = envelopeOf(session, request, encoding);
    for (const altered of [{ ...envelope, mac: flipByte(envelope.mac, 31) }, { ...envelope, payload: flipByte(envelope.payload, 30) }]) {
      const known: { caller?: SessionCaller } = {};
      const err = thrownBy(() => checkAs(gate, 'read', altered, encoding, NOW, known));
      expect(err).toMatchObject({ status: 401, message: 'session MAC is invalid' });
      expect(known.caller?.slug).toBe('app-1');
    }
  });

  it('a payload in the other encoding, or sealed under another key, is 400 even with a right MAC', () => {
    const { session, gate } = setUp();
    const other: Encoding = encoding === 'json' ? 'msgpack' : 'json';
    const crossed = withPayload(session, seal(session.keys.requestKey, encodeBody(request, other)));
    expect(thrownBy(() => gate.check('read', crossed, encoding, NOW))).toBeInstanceOf(BadRequestError);
    const wrongKey = withPayload(session, seal(session.keys.replyKey, encodeBody(request, encoding)));
    expect(thrownBy(() => gate.check('read', wrongKey, encoding, NOW))).toBeInstanceOf(BadRequestError);
  });
});
