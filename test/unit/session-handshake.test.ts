/** The `session` op's reply (docs/protocol.md §12): ticket, spk, expiresAt, and sig iff a service key. */
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  agree, BadRequestError, deriveSessionKeys, fromBase64url, generateJwk, generateSessionKeyPair, privateKeyObject,
  publicKeyObject, sessionReplySchema, toBase64url, UnauthenticatedError, verifyHandshake,
} from '@secret-svc/protocol';
import { ConfigError, loadConfig } from '../../src/config.js';
import { openSession } from '../../src/session/handshake.js';
import { TicketBox } from '../../src/session/tickets.js';
import { thrownBy } from './fixtures.js';
import { ringKey, sessionCaller } from './session-fixtures.js';
import { Sealer } from '../../src/store/seal.js';

const NOW = 1_764_000_000_000;
const TTL = 3_600_000;
const serviceJwk = generateJwk();
const serviceKey = privateKeyObject(serviceJwk);
const servicePublic = publicKeyObject(serviceJwk.x);

function handshake(o: { sign?: boolean; caller?: ReturnType<typeof sessionCaller>; now?: number } = {}) {
  const tickets = new TicketBox(new Sealer([ringKey()]));
  const own = generateSessionKeyPair();
  const caller = o.caller ?? sessionCaller();
  const reply = openSession(caller, toBase64url(own.publicKey), o.now ?? NOW, { tickets, ttlMs: TTL, serviceKey: o.sign ? serviceKey : undefined });
  return { tickets, own, caller, reply };
}

describe('openSession', () => {
  it('replies {ticket, spk, expiresAt} as the client checks it, without sig when there is no service key', () => {
    const { reply } = handshake();
    expect(Object.keys(reply).sort()).toEqual(['expiresAt', 'spk', 'ticket']);
    expect(sessionReplySchema.safeParse(reply).success).toBe(true);
  });

  it('with a service key the reply carries a sig that verifies for this epk, and for nothing else', () => {
    const { reply, own } = handshake({ sign: true });
    expect(reply.sig).toBeDefined();
    expect(sessionReplySchema.safeParse(reply).success).toBe(true);
    expect(verifyHandshake(servicePublic, own.publicKey, reply)).toBe(true);
    expect(verifyHandshake(publicKeyObject(generateJwk().x), own.publicKey, reply)).toBe(false);
    expect(verifyHandshake(servicePublic, generateSessionKeyPair().publicKey, reply)).toBe(false);
    expect(verifyHandshake(servicePublic, own.publicKey, { ...reply, expiresAt: new Date(NOW + TTL + 1000).toISOString() })).toBe(false);
    expect(verifyHandshake(servicePublic, own.publicKey, { ...reply, ticket: `${reply.ticket}A` })).toBe(false);
  });

  it('the caller derives from spk the very keys the ticket carries', () => {
    const { reply, own, tickets, caller } = handshake();
    const spk = fromBase64url(reply.spk)!;
    const keys = deriveSessionKeys(agree(own.privateKey, spk), own.publicKey, spk);
    const opened = tickets.open(reply.ticket, NOW);
    expect(opened.keys).toEqual(keys);
    expect(opened.caller).toEqual(caller);
  });

  it('uses a fresh worker key for every session', () => {
    const a = handshake().reply;
    const b = handshake().reply;
    expect(a.spk).not.toBe(b.spk);
  });

  it('expiresAt is now + TTL without a credential exp, and the ticket expires then', () => {
    const { reply, tickets } = handshake();
    expect(reply.expiresAt).toBe(new Date(NOW + TTL).toISOString());
    expect(tickets.open(reply.ticket, NOW).expiresAtMs).toBe(NOW + TTL);
  });

  it('expiresAt is capped by the credential exp', () => {
    const exp = NOW + 600_000.7;
    const { reply, tickets } = handshake({ caller: sessionCaller({ expiresAtMs: exp }) });
    expect(reply.expiresAt).toBe(new Date(NOW + 600_000).toISOString());
    expect(tickets.open(reply.ticket, NOW).expiresAtMs).toBe(NOW + 600_000);
  });

  it('a credential already past its exp (inside the skew allowance) gets 401, not a dead ticket', () => {
    const err = thrownBy(() => handshake({ caller: sessionCaller({ expiresAtMs: NOW - 1 }) }));
    expect(err).toBeInstanceOf(UnauthenticatedError);
  });

  it.each([
    ['small order (zero)', toBase64url(Buffer.alloc(32))],
    ['small order (one)', toBase64url(Buffer.from([1, ...Buffer.alloc(31)]))],
    ['out of range (p)', toBase64url(Buffer.from('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 'hex'))],
    ['31 bytes', toBase64url(Buffer.alloc(31, 9))],
    ['padded', `${toBase64url(generateSessionKeyPair().publicKey)}=`],
  ])('an unusable epk is 400 (%s)', (_label, epk) => {
    const err = thrownBy(() => openSession(sessionCaller(), epk, NOW, { tickets: new TicketBox(new Sealer([ringKey()])), ttlMs: TTL }));
    expect(err).toBeInstanceOf(BadRequestError);
  });
});

describe('session configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'secret-svc-session-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const base = { SECRET_SVC_ISSUERS: generateJwk().x, SECRET_SVC_ENCRYPTION_KEY: Buffer.from(ringKey()).toString('base64') };
  const configError = (env: Record<string, string>) => {
    const err = thrownBy(() => loadConfig({ ...base, ...env }));
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  };

  it('defaults: a one-hour TTL and no service key', () => {
    const c = loadConfig(base);
    expect(c.sessionTtlMs).toBe(3_600_000);
    expect(c.serviceKey).toBeUndefined();
  });

  it('takes SECRET_SVC_SESSION_TTL in seconds and refuses a non-positive one', () => {
    expect(loadConfig({ ...base, SECRET_SVC_SESSION_TTL: '90' }).sessionTtlMs).toBe(90_000);
    expect(configError({ SECRET_SVC_SESSION_TTL: '0' })).toContain('SECRET_SVC_SESSION_TTL');
    expect(configError({ SECRET_SVC_SESSION_TTL: 'soon' })).toContain('SECRET_SVC_SESSION_TTL');
  });

  it('loads SECRET_SVC_SERVICE_KEY from a JWK file: the key whose public half verifies', () => {
    const file = join(dir, 'service.jwk');
    writeFileSync(file, JSON.stringify(serviceJwk));
    const c = loadConfig({ ...base, SECRET_SVC_SERVICE_KEY: file });
    expect(createPublicKey(c.serviceKey!).export({ format: 'jwk' }).x).toBe(serviceJwk.x);
  });

  it.each([
    ['a missing file', () => join(dir, 'absent.jwk'), /cannot read .*ENOENT/],
    ['not JSON', () => write('garbage.jwk', `not json ${serviceJwk.d}`), /is not JSON/],
    ['a public key only', () => write('public.jwk', JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: serviceJwk.x })), /private part "d"/],
    ['x not matching d', () => write('mixed.jwk', JSON.stringify({ ...serviceJwk, x: generateJwk().x })), /does not match/],
  ])('refuses %s, naming the variable and never the key', (_label, file, why) => {
    const message = configError({ SECRET_SVC_SERVICE_KEY: file() });
    expect(message).toMatch(/^SECRET_SVC_SERVICE_KEY: /);
    expect(message).toMatch(why);
    expect(message).not.toContain(serviceJwk.d);
  });

  function write(name: string, text: string): string {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  }
});
