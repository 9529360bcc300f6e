/** What every operation gets: the verified caller, its nonce claim and the store. */
import type { Caller } from '../auth/caller.js';
import type { NonceClaim, SecretStore } from '../store/secret-store.js';
import type { Sealer } from '../store/seal.js';
import type { KeyedQueue } from './keyed-queue.js';

export interface OpContext {
  caller: Caller;
  nonce: NonceClaim;
  store: SecretStore;
  sealer: Sealer;
  maxValueBytes: number;
  /** This worker's queue of writes per key (see KeyedQueue). */
  writes: KeyedQueue;
  now: Date;
}

/**
 * The contract between the authenticate step (src/auth) and the operations: what one
 * authenticated request carries into its op. (OpContext above is the pre-refactor shape.)
 */
export interface RequestContext {
  caller: Caller;
  nonce: import('../auth/caller.js').NonceClaim;
  nowMs: number;
}

/** Runs one operation; built once per worker by src/ops/index.ts (typed per op, no casts). */
export type RunOp = <O extends import('@secret-svc/protocol').Op>(
  op: O, ctx: RequestContext, request: import('@secret-svc/protocol').RequestOf<O>,
) => Promise<object>;
