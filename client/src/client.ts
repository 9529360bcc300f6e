/** SecretClient: typed calls to secret-svc over NATS with signed envelopes. */
import { connect, ErrorCode, headers as natsHeaders, type ConnectionOptions, type Msg, type NatsConnection, type NatsError } from 'nats';
import { loadIdentity, type Identity, type IdentityOptions } from './identity.js';
import {
  buildEnvelope, decodeBody, DEFAULT_AUDIENCE, DEFAULT_NATS_URL, DEFAULT_SUBJECT_PREFIX, ERROR_CODE_HEADER, errorFromBody, errorFromStatus,
  InternalError, requestHead, SecretSvcError, sniffEncoding, subjectFor, UnavailableError, WRITE_OPS,
  type DeleteReply, type Encoding, type ListReply, type Op, type ParamsOf, type ReadManyReply, type Secret,
  type SecretMetadata, type SessionReply, type WhoamiReply, type VersionsReply,
} from '@secret-svc/protocol';

export interface ClientOptions extends IdentityOptions {
  /** An identity already loaded with loadIdentity (instead of credential/key options). */
  identity?: Identity;
  /** An existing connection (the client will not close it). */
  nc?: NatsConnection;
  /** Servers to connect to when no `nc` is given (default nats://127.0.0.1:4222). */
  servers?: string | string[];
  /** Extra connection options when the client connects itself. */
  natsOptions?: ConnectionOptions;
  /** Wire encoding (default msgpack). */
  encoding?: Encoding;
  subjectPrefix?: string;
  audience?: string;
  /** Per-attempt timeout in milliseconds (default 5000). */
  timeoutMs?: number;
  /** Extra attempts after a timeout, a 503 or no responders (default 2). */
  retries?: number;
  /** Delay before the first retry, doubled each time (default 100 ms). */
  retryDelayMs?: number;
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
  session: SessionReply;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function isRetryable(err: unknown): boolean {
  if (err instanceof SecretSvcError) return err.status === 503;
  const code = (err as NatsError | undefined)?.code;
  return code === ErrorCode.Timeout || code === ErrorCode.NoResponders;
}

export class SecretClient {
  readonly slug: string;
  private constructor(
    private readonly nc: NatsConnection,
    private readonly ownsConnection: boolean,
    private readonly identity: Identity,
    private readonly o: Required<Pick<ClientOptions, 'encoding' | 'subjectPrefix' | 'audience' | 'timeoutMs' | 'retries' | 'retryDelayMs'>>,
  ) {
    this.slug = identity.slug;
  }

  static async connect(options: ClientOptions): Promise<SecretClient> {
    const identity = options.identity ?? loadIdentity(options);
    const nc = options.nc ?? (await connect({
      servers: options.servers ?? DEFAULT_NATS_URL,
      noAsyncTraces: true,
      maxReconnectAttempts: -1,
      ...options.natsOptions,
    }));
    return new SecretClient(nc, !options.nc, identity, {
      encoding: options.encoding ?? 'msgpack',
      subjectPrefix: options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX,
      audience: options.audience ?? DEFAULT_AUDIENCE,
      timeoutMs: options.timeoutMs ?? 5000,
      retries: options.retries ?? 2,
      retryDelayMs: options.retryDelayMs ?? 100,
    });
  }

  whoami(): Promise<WhoamiReply> {
    return this.call('whoami', {});
  }

  /** The secret, or with `version` the secret as of that kept version (PROTOCOL.md §9). */
  read(key: string, options: { version?: number } = {}): Promise<Secret> {
    return this.call('read', { key, ...options }) as Promise<Secret>;
  }

  /** The kept versions of a secret, newest first. */
  versions(key: string): Promise<VersionsReply> {
    return this.call('versions', { key });
  }

  readMany(keys: string[]): Promise<ReadManyReply> {
    return this.call('read', { keys }) as Promise<ReadManyReply>;
  }

  list(options: ListOptions = {}): Promise<ListReply> {
    return this.call('list', options);
  }

  /** Every visible secret's metadata, page after page. */
  async *listAll(options: Omit<ListOptions, 'cursor'> = {}): AsyncGenerator<SecretMetadata> {
    let cursor: string | undefined;
    do {
      const page = await this.list({ ...options, ...(cursor ? { cursor } : {}) });
      yield* page.secrets;
      cursor = page.cursor ?? undefined;
    } while (cursor);
  }

  create(key: string, value: string, lists: CreateOptions = {}): Promise<SecretMetadata> {
    return this.call('create', { key, value, ...lists });
  }

  update(key: string, changes: UpdateChanges): Promise<SecretMetadata> {
    return this.call('update', { key, ...changes });
  }

  delete(key: string, options: { ifVersion?: number } = {}): Promise<DeleteReply> {
    return this.call('delete', { key, ...options });
  }

  async close(): Promise<void> {
    if (this.ownsConnection) await this.nc.close();
  }

  /**
   * One operation with retries. A read is re-signed for each attempt (a nonce is
   * accepted once). A write is resent as the identical envelope: the worker answers
   * a resend with the first attempt's outcome, so it is applied at most once.
   */
  async call<O extends Op>(op: O, params: ParamsOf<O>): Promise<Replies[O]> {
    const subject = subjectFor(this.o.subjectPrefix, op);
    const isWrite = WRITE_OPS.has(op);
    let body = this.envelope(op, params);
    let delay = this.o.retryDelayMs;
    let resent = false;
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.send(subject, body)) as Replies[O];
      } catch (err) {
        // A resend may race the first attempt still in flight: that answers 401; try again.
        const racing = isWrite && resent && err instanceof SecretSvcError && err.status === 401;
        if (attempt >= this.o.retries || !(isRetryable(err) || racing)) throw toClientError(err, subject, this.o.timeoutMs);
      }
      await sleep(delay);
      delay *= 2;
      if (isWrite) resent = true;
      else body = this.envelope(op, params);
    }
  }

  private envelope(op: Op, params: object): Uint8Array {
    const request = { ...requestHead(op, this.o.audience), ...params };
    return buildEnvelope(this.identity.credential, this.identity.key, request, this.o.encoding);
  }

  private async send(subject: string, body: Uint8Array): Promise<unknown> {
    const msg = await this.nc.request(subject, body, { timeout: this.o.timeoutMs, headers: natsHeaders() });
    return decodeReply(msg);
  }
}

function decodeReply(msg: Msg): unknown {
  let body: unknown;
  try {
    // Replies come in the request's encoding, except errors about undecodable bodies (JSON):
    // the protocol's own rule tells them apart.
    body = msg.data.length ? decodeBody(msg.data, sniffEncoding(msg.data)) : undefined;
  } catch {
    body = undefined;
  }
  const status = msg.headers?.get(ERROR_CODE_HEADER);
  const err = errorFromBody(body) ?? (status ? errorFromStatus(Number(status), msg.headers?.get('Nats-Service-Error') ?? 'error') : undefined);
  if (err) throw err;
  if (body === undefined) throw new InternalError('reply is not decodable');
  return body;
}

function toClientError(err: unknown, subject: string, timeoutMs: number): Error {
  if (err instanceof SecretSvcError) return err;
  const code = (err as NatsError | undefined)?.code;
  if (code === ErrorCode.Timeout) return new UnavailableError(`no reply on ${subject} within ${timeoutMs} ms`);
  if (code === ErrorCode.NoResponders) return new UnavailableError(`no worker is serving ${subject}`);
  return err instanceof Error ? err : new Error(String(err));
}
