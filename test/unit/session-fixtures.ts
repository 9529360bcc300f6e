/**
 * Session test fixtures: callers, and a fake transport that runs the worker's session
 * modules (handshake, request check, sealed replies) on the far side of an encode/decode,
 * so the client's RequestChannel is tested against the real worker code without a bus.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import {
  decodeBody, decodePayload, encodeBody, errorFromStatus, generateJwk, parseRequestEnvelope, privateKeyObject,
  SecretSvcError, signedBytes, sniffEncoding, UnauthenticatedError, verifyBytes, type PrivateJwk,
} from '@secret-svc/protocol/internal';
import { CredentialVerifier } from '../../src/auth/credentials.js';
import { openSession } from '../../src/session/handshake.js';
import { sealSuccessObject } from '../../src/session/reply.js';
import { SessionGate } from '../../src/session/request.js';
import { TicketBox } from '../../src/session/tickets.js';
import { type Caller as SessionCaller } from '../../src/auth/caller.js';
import { TestIssuer } from '../helpers/identities.js';
import { Sealer } from '../../src/store/seal.js';

export const SKEW_MS = 60_000;

export function sessionCaller(overrides: Partial<SessionCaller> = {}): SessionCaller {
  return {
    slug: 'app-1',
    admin: false,
    issuer: generateJwk().x,
    keyId: generateJwk().x,
    jti: 'jti-1',
    issuedAtMs: 1_764_000_000_000,
    expiresAtMs: null,
    ...overrides,
  };
}

export const ringKey = () => new Uint8Array(randomBytes(32));

/** A NATS "no responders" error as nats v2 throws it. */
export function noResponders(): Error {
  return Object.assign(new Error('503'), { code: '503' });
}

export interface FakeWorkerOptions {
  ring?: Uint8Array[];
  ttlMs?: number;
  serviceKey?: KeyObject;
  /** false: a 1.0 worker (nobody on `<prefix>.session`). */
  sessions?: boolean;
}

/** What a client holds to talk to the fake worker. */
export interface FakeIdentity {
  credential: string;
  key: KeyObject;
  jwk: PrivateJwk;
}

export class FakeWorker {
  readonly issuer = new TestIssuer();
  nowMs = 1_764_000_000_000;
  tickets: TicketBox;
  sessions: boolean;
  ttlMs: number;
  serviceKey: KeyObject | undefined;
  /** Every request that reached the worker: how it came, with which ticket. */
  readonly seen: { op: string; kind: 'signed' | 'session'; ticket?: string; status: number }[] = [];
  /** Rewrites a decoded success reply on its way back (an attacker on the reply subject). */
  tamper: ((op: string, reply: unknown) => unknown) | undefined;
  private readonly credentials: CredentialVerifier;

  constructor(o: FakeWorkerOptions = {}) {
    this.tickets = new TicketBox(new Sealer(o.ring ?? [ringKey()]));
    this.sessions = o.sessions ?? true;
    this.ttlMs = o.ttlMs ?? 3_600_000;
    this.serviceKey = o.serviceKey;
    this.credentials = new CredentialVerifier([this.issuer.publicKey], SKEW_MS);
  }

  identity(slug = 'app-1', opts: { ttlSeconds?: number } = {}): FakeIdentity {
    const c = this.issuer.caller(slug, { now: this.nowMs, ...opts });
    return { credential: c.credential, key: privateKeyObject(c.key), jwk: c.key };
  }

  /** The RequestChannel's `request`: resolves with the decoded success reply, throws like the client does. */
  readonly request = async (subject: string, body: Uint8Array, _timeoutMs: number): Promise<unknown> => {
    await new Promise((r) => setTimeout(r, 2)); // a round trip: concurrent callers really overlap
    const op = subject.slice(subject.lastIndexOf('.') + 1);
    if (op === 'session' && !this.sessions) throw noResponders();
    const encoding = sniffEncoding(body);
    const gate = new SessionGate({ tickets: this.tickets, issuers: new Set([this.issuer.publicKey]), maxClockSkewMs: SKEW_MS });
    const parsed = parseRequestEnvelope(body, encoding);
    let replyBody: Uint8Array;
    try {
      if (parsed.kind === 'signed') {
        const cred = this.credentials.verify(parsed.envelope.cred, this.nowMs);
        if (!verifyBytes(cred.publicKey, signedBytes(parsed.envelope.cred, parsed.envelope.payload), parsed.envelope.sig)) {
          throw new UnauthenticatedError('request signature is invalid');
        }
        const request = decodePayload(parsed.envelope.payload, encoding) as { epk?: string };
        const caller: SessionCaller = { ...cred, jti: null, issuedAtMs: null };
        const reply = op === 'session'
          ? openSession(caller, request.epk!, this.nowMs, { tickets: this.tickets, ttlMs: this.ttlMs, serviceKey: this.serviceKey })
          : { echo: request, over: 'signed' };
        replyBody = encodeBody(reply, encoding);
      } else {
        const checked = gate.check(op, parsed.envelope, encoding, this.nowMs);
        replyBody = sealSuccessObject(checked.reply, { echo: checked.request, over: 'session' }, encoding);
      }
      this.seen.push({ op, kind: parsed.kind, ticket: parsed.kind === 'session' ? parsed.envelope.ticket : undefined, status: 200 });
    } catch (err) {
      if (!(err instanceof SecretSvcError)) throw err;
      this.seen.push({ op, kind: parsed.kind, ticket: parsed.kind === 'session' ? parsed.envelope.ticket : undefined, status: err.status });
      throw errorFromStatus(err.status, err.message); // as the client rebuilds it from the error reply
    }
    const decoded = decodeBody(replyBody, encoding);
    return this.tamper ? this.tamper(op, decoded) : decoded;
  };

  get handshakes(): number {
    return this.seen.filter((s) => s.op === 'session').length;
  }
}

/** Makes the fake worker answer each read with the previous read's sealed reply (a swapped reply). */
export function swapReadReplies(worker: FakeWorker): void {
  let previous: unknown;
  worker.tamper = (op, reply) => {
    if (op !== 'read') return reply;
    const out = previous ?? reply;
    previous = reply;
    return out;
  };
}
