/** The contract between the authenticate step (src/auth) and the operations. */
import type { Op, RequestOf } from '@secret-svc/protocol';
import type { Caller, NonceClaim } from '../auth/caller.js';
import type { ReplyBytes } from '../limits.js';
import type { HandshakeDeps } from '../session/handshake.js';
import type { SecretStore } from '../store/secret-store.js';
import type { WatchHub } from '../watch/hub.js';
import type { KeyedQueue } from './keyed-queue.js';

/** What one authenticated request carries into its op. */
export interface RequestContext {
  caller: Caller;
  nonce: NonceClaim;
  nowMs: number;
  /** The largest reply (as encoded for the caller, before any session sealing) the bus takes. */
  replyBudgetBytes: number;
  /** The bus limit itself (the server's max_payload), for messages. */
  replyLimitBytes: number;
  /** Stops counting this request against the in-flight limits (a held watch: docs/protocol.md §14). */
  release: () => void;
  /** The caller's reply bytes in flight (src/limits.ts): reserved before the store builds a large reply. */
  replyBytes: ReplyBytes;
}

/** What the operations share, built once per worker. */
export interface OpDeps {
  store: SecretStore;
  maxValueBytes: number;
  /** This worker's queue of writes per key (see KeyedQueue). */
  writes: KeyedQueue;
  /**
   * After a local revoke/unrevoke: refresh this worker's revocation set and hint the others
   * (the worker wires it to its RevocationWatcher; never rejects).
   */
  revocationsChanged?: () => Promise<void>;
  /** Opening sessions: the worker's TicketBox, SECRET_SVC_SESSION_TTL, SECRET_SVC_SERVICE_KEY. */
  sessions: HandshakeDeps;
  /** The worker's held watches and change-log follower (docs/protocol.md §14); told of every applied write. */
  watches?: WatchHub;
}

/** One operation: deps, the request's context, its request object. */
export type Operation<O extends Op, R extends object = object> = (deps: OpDeps, ctx: RequestContext, request: RequestOf<O>) => Promise<R>;

/** Runs one operation; built once per worker by src/ops/index.ts (typed per op, no casts). */
export type RunOp = <O extends Op>(op: O, ctx: RequestContext, request: RequestOf<O>) => Promise<object>;
