/**
 * Sessions from the caller's side (docs/protocol.md §12). A RequestChannel carries every
 * call: it opens a session on first use (one handshake in flight however many calls wait for
 * it), renews it in the background before it expires, and sends calls signed instead to a
 * worker that does not offer sessions — unless a service key is pinned, then never.
 *
 * One operation is a SessionCall: the client's retry loop asks it for the body of each
 * attempt, opens the reply through it, and lets it turn "session is no longer valid" into
 * one immediate retry over a new session:
 *
 *   const call = sessions.begin(op, params);
 *   for (;;) try {
 *     return call.open(await send(call.subject, await call.body(timeoutMs), timeoutMs));
 *   } catch (err) {
 *     if (call.reopen(err)) continue;
 *     …retry on timeout / 503 as before, or throw
 *   }
 */
import type { KeyObject } from 'node:crypto';
import {
  buildEnvelope, buildSessionEnvelope, DEFAULT_AUDIENCE, DEFAULT_SUBJECT_PREFIX, newNonce, openSessionReplyObject,
  SecretSvcError, SESSION_INVALID_MESSAGE, WRITE_OPS, type Encoding,
} from '@secret-svc/protocol';
import {
  handshake, HandshakeTimeout, pinnedServiceKey, SessionsUnsupported, type OpenedSession, type SessionRequestFn,
} from './session-handshake.js';

export {
  HandshakeTimeout, SessionHandshakeError, SERVICE_PUBLIC_KEY_ENV, pinnedServiceKey, type SessionRequestFn, type OpenedSession,
} from './session-handshake.js';

export { SESSION_INVALID_MESSAGE };

export const DEFAULT_RENEW_MARGIN_MS = 60_000;
export const DEFAULT_FALLBACK_RECHECK_MS = 60_000;
/** After a failed background renewal, the current session serves this long before the next try. */
const RENEW_RETRY_MS = 1_000;

export interface RequestChannelOptions {
  /** The caller's credential text and private key (an Identity). */
  identity: { credential: string; key: KeyObject };
  /** Sends a body, resolves with the decoded success reply; throws error replies and NATS errors as they are. */
  request: SessionRequestFn;
  encoding?: Encoding;
  subjectPrefix?: string;
  audience?: string;
  /** false: signed requests only. Default true. */
  sessions?: boolean;
  /** The deployment's service public key; default SECRET_SVC_SERVICE_PUBLIC_KEY from `env`. */
  servicePublicKey?: string;
  env?: Record<string, string | undefined>;
  /** Renew this long before expiresAt (at most half the session's life). Default 60 s. */
  renewMarginMs?: number;
  /** After falling back to signed requests, try a session again after this long. Default 60 s. */
  fallbackRecheckMs?: number;
  /** Time limit of a background renewal's handshake. Default 5 s. */
  renewTimeoutMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

/** How a request goes out: over this session, or signed. */
type Channel = OpenedSession | 'signed';

interface Built {
  body: Uint8Array;
  session: OpenedSession | undefined;
  mac: Uint8Array | undefined;
}

export class RequestChannel {
  readonly encoding: Encoding;
  /** The pinned service key, when one is configured: handshakes must be signed by it. */
  readonly pinned: KeyObject | undefined;
  private readonly o: Required<Pick<RequestChannelOptions,
    'subjectPrefix' | 'audience' | 'sessions' | 'renewMarginMs' | 'fallbackRecheckMs' | 'renewTimeoutMs' | 'now'>>;
  private current: OpenedSession | undefined;
  private opening: Promise<Channel> | undefined;
  private signedUntilMs = -Infinity;
  private renewPausedUntilMs = -Infinity;
  private started = 0;

  constructor(private readonly options: RequestChannelOptions) {
    this.encoding = options.encoding ?? 'msgpack';
    this.pinned = pinnedServiceKey(options.servicePublicKey, options.env ?? process.env);
    this.o = {
      subjectPrefix: options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX,
      audience: options.audience ?? DEFAULT_AUDIENCE,
      sessions: options.sessions ?? true,
      renewMarginMs: options.renewMarginMs ?? DEFAULT_RENEW_MARGIN_MS,
      fallbackRecheckMs: options.fallbackRecheckMs ?? DEFAULT_FALLBACK_RECHECK_MS,
      renewTimeoutMs: options.renewTimeoutMs ?? 5_000,
      now: options.now ?? Date.now,
    };
  }

  /** One operation: ask it for each attempt's body (see the file's comment). */
  begin(op: string, params: object): SessionCall {
    return new SessionCall(this, op, params, `${this.o.subjectPrefix}.${op}`, isWriteOp(op));
  }

  /** How many handshakes this manager has started (tests, stats). */
  get handshakes(): number {
    return this.started;
  }

  /** True while requests go out signed because the service does not offer sessions. */
  get signedOnly(): boolean {
    return !this.o.sessions || this.o.now() < this.signedUntilMs;
  }

  /** The next attempt's body: the request object with a fresh nonce, over the current channel. */
  async build(op: string, params: object, timeoutMs: number): Promise<Built> {
    const channel = await this.channel(timeoutMs);
    // After the channel: a handshake may have taken a while, and `ts` is checked against the worker's clock.
    const request = { op, aud: this.o.audience, ts: this.o.now(), nonce: newNonce(), ...params };
    const { credential, key } = this.options.identity;
    if (channel === 'signed') return { body: buildEnvelope(credential, key, request, this.encoding), session: undefined, mac: undefined };
    const built = buildSessionEnvelope(channel.handle, request, this.encoding);
    return { body: built.body, session: channel, mac: built.mac };
  }

  /** Forget `session` (its ticket was refused); the next request opens a new one. */
  invalidate(session: OpenedSession): void {
    if (this.current === session) this.current = undefined;
  }

  private async channel(timeoutMs: number): Promise<Channel> {
    if (this.signedOnly) return 'signed';
    const now = this.o.now();
    const current = this.current;
    if (current && now < current.expiresAtMs) {
      if (now >= current.renewAtMs) this.renewInBackground(now);
      return current;
    }
    // Waiting for a handshake another call started counts against this call's own time.
    return this.opening ? within(this.opening, timeoutMs) : this.open(timeoutMs);
  }

  private renewInBackground(now: number): void {
    if (this.opening || now < this.renewPausedUntilMs) return;
    this.open(this.o.renewTimeoutMs).catch(() => {
      // The current session serves until it expires; then a call opens one in the foreground and sees the error.
      this.renewPausedUntilMs = this.o.now() + RENEW_RETRY_MS;
    });
  }

  /** Starts the one handshake in flight; every caller needing a session until it settles waits for it. */
  private open(timeoutMs: number): Promise<Channel> {
    this.started++;
    const opening: Promise<Channel> = handshake({
      request: this.options.request,
      subject: `${this.o.subjectPrefix}.session`,
      credential: this.options.identity.credential,
      key: this.options.identity.key,
      audience: this.o.audience,
      encoding: this.encoding,
      pinned: this.pinned,
      renewMarginMs: this.o.renewMarginMs,
      nowMs: this.o.now(),
      timeoutMs,
    }).then(
      (session): Channel => {
        this.current = session;
        return session;
      },
      (err: unknown): Channel => {
        // Against a 1.0 worker, signed requests; with a pinned service key, never (§12).
        if (!(err instanceof SessionsUnsupported)) throw err;
        if (this.pinned) throw err.cause;
        this.signedUntilMs = this.o.now() + this.o.fallbackRecheckMs;
        return 'signed';
      },
    ).finally(() => {
      if (this.opening === opening) this.opening = undefined;
    });
    this.opening = opening;
    return opening;
  }
}

/** One operation's attempts (see RequestChannel.begin). */
export class SessionCall {
  private built: Built | undefined;
  private sends = 0;
  private reopened = false;

  constructor(
    private readonly manager: RequestChannel,
    readonly op: string,
    private readonly params: object,
    readonly subject: string,
    readonly isWrite: boolean,
  ) {}

  /**
   * The body of the next attempt. A read gets a fresh nonce each time (a nonce is accepted
   * once); a write is resent as the identical bytes, so the worker answers a resend with the
   * first attempt's reply. May open a session first (one handshake, within `timeoutMs`).
   */
  async body(timeoutMs: number): Promise<Uint8Array> {
    if (!this.built || !this.isWrite) this.built = await this.manager.build(this.op, this.params, timeoutMs);
    this.sends++;
    return this.built.body;
  }

  /**
   * The reply object from the decoded success body: over a session, the sealed reply opened
   * and checked to answer this very request (SessionReplyError otherwise).
   */
  open(reply: unknown): unknown {
    const built = this.built;
    if (!built) throw new Error('SessionCall.open before body');
    if (!built.session) return reply;
    return openSessionReplyObject(built.session.handle.keys.replyKey, built.mac!, reply, this.manager.encoding);
  }

  /**
   * After a failed attempt: true when the worker said the session is no longer valid and the
   * next body() will go over a new session — once per call, and for a write only when it was
   * sent once (that 401 comes before anything is applied; after a resend, the first attempt
   * may have been).
   */
  reopen(err: unknown): boolean {
    const session = this.built?.session;
    if (this.reopened || !session || !isSessionInvalid(err)) return false;
    if (this.isWrite && this.sends > 1) return false;
    this.reopened = true;
    this.manager.invalidate(session);
    this.built = undefined;
    return true;
  }
}

/** The worker's 401 for a ticket that does not open or has expired. */
export function isSessionInvalid(err: unknown): boolean {
  return err instanceof SecretSvcError && err.status === 401 && err.message === SESSION_INVALID_MESSAGE;
}

/** `p`, or a HandshakeTimeout after `ms` (p itself goes on for whoever else waits for it). */
function within<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new HandshakeTimeout(ms)), ms);
    p.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

function isWriteOp(op: string): boolean {
  return (WRITE_OPS as ReadonlySet<string>).has(op);
}
