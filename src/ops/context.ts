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
