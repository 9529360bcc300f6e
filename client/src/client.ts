/**
 * SecretClient: typed calls to secret-svc over NATS, over a session by default (docs/protocol.md §12:
 * requests and replies sealed, an HMAC per request), else with signed envelopes.
 */
import { ErrorCode, type ConnectionOptions } from 'nats';
import { loadIdentity, type Identity, type IdentityOptions } from './identity.js';
import { connectNats, isNoResponders, unavailable, type NatsRequester, type ReplyMsg } from './connection.js';
import { optionsFromEnv, type Env } from './env.js';
import { SERVICE_PUBLIC_KEY_ENV, RequestChannel } from './session.js';
import {
  decodeBody, DEFAULT_AUDIENCE, DEFAULT_SUBJECT_PREFIX, ERROR_CODE_HEADER, ERROR_MESSAGE_HEADER, errorFromBody, errorFromStatus,
  InternalError, SecretSvcError, sniffEncoding,
  type DeleteReply, type Encoding, type ListReply, type Op, type ParamsOf, type ReadManyReply, type Secret,
  type SecretMetadata, type SessionReply, type WhoamiReply, type VersionsReply,
  type RevocationSelector, type RevokeReply, type UnrevokeReply, type RevocationsReply, type WatchReply,
} from '@secret-svc/protocol';
import { watchBatches, type WatchBatch, type WatchOptions, type WatchSelector } from './watch.js';
import { SecretCache, type CacheOptions } from './cache.js';

export interface ClientOptions extends IdentityOptions {
  /** An identity already loaded with loadIdentity (instead of credential/key options). */
  identity?: Identity;
  /** An existing connection (`nats` v2 or `@nats-io/transport-node` 3.x); the client will not close it. */
  nc?: NatsRequester;
  /** Servers to connect to when no `nc` is given (default nats://127.0.0.1:4222). */
  servers?: string | string[];
  /** Extra connection options when the client connects itself. */
  natsOptions?: ConnectionOptions;
  /** Wire encoding (default msgpack). */
  encoding?: Encoding;
  subjectPrefix?: string;
  audience?: string;
  /** The whole time one call may take, retries included, in milliseconds (default 5000). */
  timeoutMs?: number;
  /** At most this long per attempt (default: an equal share of the time left, the last attempt all of it). */
  attemptTimeoutMs?: number;
  /** Extra attempts after a timeout, a 503 or no responders, within the deadline (default 2). */
  retries?: number;
  /** Delay before the first retry, doubled each time up to 2 s, its upper half random (default 100 ms). */
  retryDelayMs?: number;
  /**
   * Sessions (docs/protocol.md §12): requests and replies sealed, values never in the clear on the
   * bus. Default true; against a worker without sessions the client sends signed requests
   * (unless `servicePublicKey` is set). false: every request signed.
   */
  sessions?: boolean;
  /**
   * The deployment's service public key (base64url `x` of its Ed25519 JWK): a session is only
   * opened with a handshake reply signed by it, and the client never falls back to signed
   * requests. fromEnv reads SECRET_SVC_SERVICE_PUBLIC_KEY.
   */
  servicePublicKey?: string;
}

/** Per call: a deadline replacing the client's `timeoutMs`, a signal to give up early, and the number of retries replacing `retries`. */
export interface CallOptions {
  timeout?: number;
  signal?: AbortSignal;
  retries?: number;
}

export type Lists = Pick<SecretMetadata, 'readers' | 'writers' | 'deleters'>;
export type CreateOptions = Partial<Lists>;
export type UpdateChanges = ParamsOf<'update'> extends infer P ? Omit<P, 'key'> : never;
export type ListOptions = Omit<ParamsOf<'list'>, never>;

interface Replies {
  whoami: WhoamiReply;
  read: Secret | ReadManyReply;
  list: ListReply;
  create: SecretMetadata;
  update: SecretMetadata;
  delete: DeleteReply;
  versions: VersionsReply;
  revoke: RevokeReply;
  unrevoke: UnrevokeReply;
  revocations: RevocationsReply;
  session: SessionReply;
  watch: WatchReply;
}

type Settings = Required<Pick<ClientOptions, 'subjectPrefix' | 'timeoutMs' | 'retries' | 'retryDelayMs'>>
  & Pick<ClientOptions, 'attemptTimeoutMs'>;

/** nats v2 errors carry `code`; transport-node 3.x throws classes named by the failure. */
const isTimeout = (err: unknown) => (err as { code?: unknown })?.code === ErrorCode.Timeout || (err as Error)?.name === 'TimeoutError';

export class SecretClient {
  readonly slug: string;
  private nc!: NatsRequester;
  private ownsConnection = false;
  private readonly o: Settings;
  /** Every call goes through it: over the session, or signed when sessions are off or not offered. */
  private readonly sessions: RequestChannel;

  private constructor(identity: Identity, options: ClientOptions, pinnedFrom: Env) {
    this.slug = identity.slug;
    this.o = {
      subjectPrefix: options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX,
      timeoutMs: options.timeoutMs ?? 5000,
      retries: options.retries ?? 2,
      retryDelayMs: options.retryDelayMs ?? 100,
      attemptTimeoutMs: options.attemptTimeoutMs,
    };
    this.sessions = new RequestChannel({
      identity,
      // Handshakes and background renewals are shared by calls: no one call's signal ends them.
      request: (subject, body, timeoutMs) => this.send(subject, body, timeoutMs, undefined),
      encoding: options.encoding ?? 'msgpack',
      subjectPrefix: this.o.subjectPrefix,
      audience: options.audience ?? DEFAULT_AUDIENCE,
      sessions: options.sessions ?? true,
      servicePublicKey: options.servicePublicKey,
      env: pinnedFrom,
    });
  }

  static async connect(options: ClientOptions): Promise<SecretClient> {
    return SecretClient.start(options, {});
  }

  /**
   * Connects with the CLI's variables (see optionsFromEnv; SECRET_SVC_SERVICE_PUBLIC_KEY pins
   * the service key); `options` win over the environment.
   */
  static async fromEnv(env: Env = process.env, options: ClientOptions = {}): Promise<SecretClient> {
    const { servicePublicKey: _named, ...fromEnv } = optionsFromEnv(env);
    // The manager reads the pinned key from `env` itself, so a bad one is named by its variable.
    return SecretClient.start({
      ...fromEnv,
      ...options,
      natsOptions: { ...fromEnv.natsOptions, ...options.natsOptions },
    }, { [SERVICE_PUBLIC_KEY_ENV]: env[SERVICE_PUBLIC_KEY_ENV] });
  }

  /** Identity and pinned key are checked before connecting: a bad one leaves no connection open. */
  private static async start(options: ClientOptions, pinnedFrom: Env): Promise<SecretClient> {
    const client = new SecretClient(options.identity ?? loadIdentity(options), options, pinnedFrom);
    client.nc = options.nc ?? (await connectNats(options.servers, options.natsOptions));
    client.ownsConnection = !options.nc;
    return client;
  }

  /** True when calls currently go out signed (sessions turned off, or not offered by the service). */
  get signedOnly(): boolean {
    return this.sessions.signedOnly;
  }

  whoami(options: CallOptions = {}): Promise<WhoamiReply> {
    return this.call('whoami', {}, options);
  }

  /** The secret, or with `version` the secret as of that kept version (docs/protocol.md §9). */
  read(key: string, options: CallOptions & { version?: number } = {}): Promise<Secret> {
    const { version, ...call } = options;
    return this.call('read', version === undefined ? { key } : { key, version }, call) as Promise<Secret>;
  }

  /** The kept versions of a secret, newest first. */
  versions(key: string, options: CallOptions = {}): Promise<VersionsReply> {
    return this.call('versions', { key }, options);
  }

  readMany(keys: string[], options: CallOptions = {}): Promise<ReadManyReply> {
    return this.call('read', { keys }, options) as Promise<ReadManyReply>;
  }

  list(params: ListOptions = {}, options: CallOptions = {}): Promise<ListReply> {
    return this.call('list', params, options);
  }

  /** Every visible secret's metadata, page after page (each page its own call). */
  async *listAll(params: Omit<ListOptions, 'cursor'> = {}, options: CallOptions = {}): AsyncGenerator<SecretMetadata> {
    let cursor: string | undefined;
    do {
      const page = await this.list({ ...params, ...(cursor ? { cursor } : {}) }, options);
      yield* page.secrets;
      cursor = page.cursor ?? undefined;
    } while (cursor);
  }

  create(key: string, value: string, lists: CreateOptions = {}, options: CallOptions = {}): Promise<SecretMetadata> {
    return this.call('create', { key, value, ...lists }, options);
  }

  update(key: string, changes: UpdateChanges, options: CallOptions = {}): Promise<SecretMetadata> {
    return this.call('update', { key, ...changes }, options);
  }

  delete(key: string, params: { ifVersion?: number } = {}, options: CallOptions = {}): Promise<DeleteReply> {
    return this.call('delete', { key, ...params }, options);
  }

  /** Revokes every credential the selector matches (administrators only; docs/protocol.md §10). */
  revoke(selector: RevocationSelector, options: CallOptions = {}): Promise<RevokeReply> {
    return this.call('revoke', selector, options);
  }

  /** Removes exactly the revocation with this selector (404 when there is none). */
  unrevoke(selector: RevocationSelector, options: CallOptions = {}): Promise<UnrevokeReply> {
    return this.call('unrevoke', selector, options);
  }

  /** Every revocation, in the order made. */
  revocations(options: CallOptions = {}): Promise<RevocationsReply> {
    return this.call('revocations', {}, options);
  }

  /**
   * Changes to the secrets the selector names that this caller may read, as they are
   * committed (docs/protocol.md §14): an iterator of batches, resumed from its last revision
   * after a lost connection, a 503 or a restarted worker, without losing a change. A batch
   * with `reset: true` (and no changes) means changes were missed: re-read what you hold.
   * Aborting `signal` ends it; a 4xx (e.g. a revoked credential) ends it with that error.
   */
  watch(selector: WatchSelector, options: WatchOptions = {}): AsyncIterableIterator<WatchBatch> {
    return watchBatches((params, call) => this.call('watch', params, call), () => this.nc.isClosed(), selector, options);
  }

  /**
   * A read-through cache in memory of the secrets the selector names, kept fresh by one
   * watch (see SecretCache: `get`, `stats`, events `change`, `reset`, `stale`; `close()`).
   */
  cache(selector: WatchSelector, options: CacheOptions = {}): SecretCache {
    return new SecretCache({
      read: (key) => this.read(key),
      readMany: (keys) => this.readMany(keys),
      watch: (sel, o, hooks) => watchBatches((params, call) => this.call('watch', params, call), () => this.nc.isClosed(), sel, o, hooks),
    }, selector, options);
  }

  async close(): Promise<void> {
    if (this.ownsConnection && !this.nc.isClosed()) await this.nc.close();
  }

  /**
   * One operation within one deadline, retries included. A read gets a fresh nonce for each
   * attempt (a nonce is accepted once). A write is resent as the identical bytes: the worker
   * answers a resend with the first attempt's outcome, so it is applied at most once. Each
   * attempt gets an equal share of the time left, the last one all of it (opening a session
   * included); the error says how long it waited. A session the worker no longer accepts is
   * replaced once, at once, without counting as an attempt.
   */
  async call<O extends Op>(op: O, params: ParamsOf<O>, options: CallOptions = {}): Promise<Replies[O]> {
    const call = this.sessions.begin(op, params);
    const deadlineMs = options.timeout ?? this.o.timeoutMs;
    const retries = options.retries ?? this.o.retries;
    const started = Date.now();
    let delay = this.o.retryDelayMs;
    let resent = false;
    for (let attempt = 0; ; attempt++) {
      options.signal?.throwIfAborted();
      const left = deadlineMs - (Date.now() - started);
      const share = attempt >= retries ? left : left / (retries - attempt + 1);
      const attemptMs = Math.max(1, Math.floor(Math.min(share, this.o.attemptTimeoutMs ?? share)));
      const attemptStarted = Date.now();
      let subject = `${this.o.subjectPrefix}.session`; // until the body is built, the wait is for a handshake
      try {
        const body = await abortable(call.body(attemptMs), options.signal);
        subject = call.subject;
        const sendMs = Math.max(1, attemptMs - (Date.now() - attemptStarted));
        return call.open(await this.send(subject, body, sendMs, options.signal)) as Replies[O];
      } catch (err) {
        if (options.signal?.aborted) throw options.signal.reason;
        if (call.reopen(err)) {
          attempt--;
          continue;
        }
        // A resend may race the first attempt still in flight: that answers 401; try again.
        const racing = call.isWrite && resent && err instanceof SecretSvcError && err.status === 401;
        const retryable = (err instanceof SecretSvcError && err.status === 503) || isTimeout(err) || isNoResponders(err) || racing;
        const waited = Date.now() - started;
        if (attempt >= retries || !retryable || waited >= deadlineMs) throw toClientError(err, subject, waited, attempt + 1);
      }
      // A 503 is a busy worker saying "later" (its limits, docs/protocol.md §5): back off for real,
      // yet never eat the whole rest of the deadline: the last attempt gets what is left.
      await sleep(backoff(delay, deadlineMs - (Date.now() - started)), options.signal);
      delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
      if (call.isWrite) resent = true;
    }
  }

  /** The one place a request goes out on the connection. */
  private async send(subject: string, body: Uint8Array, timeout: number, signal: AbortSignal | undefined): Promise<unknown> {
    const request = this.nc.request(subject, body, { timeout });
    return decodeReply(signal ? await abortable(request, signal) : await request);
  }
}

/** The longest single back-off between two attempts. */
const MAX_RETRY_DELAY_MS = 2000;

/**
 * The wait before the next attempt: `delay` with its upper half random, so callers refused
 * together do not come back together, and at most half the time left.
 */
function backoff(delay: number, leftMs: number): number {
  return Math.max(0, Math.min(delay / 2 + Math.random() * (delay / 2), leftMs / 2));
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return abortable(new Promise<void>((r) => setTimeout(r, ms)), signal);
}

/** Settles with `p`, or rejects with the signal's reason as soon as it aborts. */
function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  p.catch(() => {}); // still settles later; nobody waits for it then
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function decodeReply(msg: ReplyMsg): unknown {
  let body: unknown;
  try {
    // Replies come in the request's encoding, except errors about undecodable bodies (JSON):
    // the protocol's own rule tells them apart.
    body = msg.data.length ? decodeBody(msg.data, sniffEncoding(msg.data)) : undefined;
  } catch {
    body = undefined;
  }
  const status = msg.headers?.get(ERROR_CODE_HEADER);
  const err = errorFromBody(body) ?? (status ? errorFromStatus(Number(status), msg.headers?.get(ERROR_MESSAGE_HEADER) || 'error') : undefined);
  if (err) throw err;
  if (body === undefined) throw new InternalError('reply is not decodable');
  return body;
}

function toClientError(err: unknown, subject: string, waitedMs: number, attempts: number): Error {
  if (err instanceof SecretSvcError) return err;
  const tries = `${attempts} attempt${attempts === 1 ? '' : 's'}`;
  if (isTimeout(err)) return unavailable(`no reply on ${subject} after ${waitedMs} ms (${tries})`, err);
  if (isNoResponders(err)) return unavailable(`no worker is serving ${subject} (waited ${waitedMs} ms, ${tries})`, err);
  if ((err as { code?: unknown })?.code === ErrorCode.ConnectionClosed) return unavailable(`the NATS connection is closed`, err);
  return err instanceof Error ? err : new Error(String(err));
}
