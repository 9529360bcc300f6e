/**
 * What the client needs from a NATS connection, typed by shape so that a connection from the
 * `nats` v2 package and one from `@nats-io/transport-node` 3.x both fit; and connecting one itself.
 */
import { connect, ErrorCode, type ConnectionOptions } from 'nats';
import { DEFAULT_NATS_URL, UnavailableError } from '@secret-svc/protocol';

export interface ReplyMsg {
  data: Uint8Array;
  headers?: { get(key: string): string } | undefined;
}

/** The parts of a NatsConnection the client calls. */
export interface NatsRequester {
  request(subject: string, payload: Uint8Array, opts: { timeout: number }): Promise<ReplyMsg>;
  flush(): Promise<void>;
  close(): Promise<void>;
  closed(): Promise<void | Error>;
  isClosed(): boolean;
}


/** Connects, turning "nobody there" into the protocol's UnavailableError (the NATS error as `cause`). */
export async function connectNats(servers: string | string[] | undefined, options: ConnectionOptions = {}): Promise<NatsRequester> {
  const target = servers ?? DEFAULT_NATS_URL;
  try {
    return await connect({ servers: target, noAsyncTraces: true, maxReconnectAttempts: -1, ...options });
  } catch (err) {
    const names = (Array.isArray(target) ? target : [target]).map(withoutPassword).join(',');
    throw unavailable(`cannot connect to NATS at ${names}: ${(err as Error).message}`, err);
  }
}

/** A server URL fit for a message: a password in it, or a token given as its user part, becomes `***`. */
export function withoutPassword(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*:)[^@/]*@/i, '$1***@')
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)[^:@/]+@/i, '$1***@');
}

/** No worker subscribes to the subject (nats v2's error code, or the name newer clients use). */
export function isNoResponders(err: unknown): boolean {
  return (err as { code?: unknown } | undefined)?.code === ErrorCode.NoResponders || (err as Error | undefined)?.name === 'NoRespondersError';
}

export function unavailable(message: string, cause: unknown): UnavailableError {
  return Object.assign(new UnavailableError(message), { cause });
}
