/**
 * The shared path of update and delete: read the current record (and whether the nonce
 * was used), decide with the pure policy, then commit the decision and its outcome
 * atomically, conditional on the record being the one decided on. Access is decided
 * before the per-key queue is joined; a commit refused as stale decides again.
 */
import { TooLargeError, UnavailableError, type SecretSvcError } from '@secret-svc/protocol';
import type { StoredRecord } from '../store/record.js';
import type { WriteResult } from '../store/secret-store.js';
import type { DeletePlan, RejectPlan, ReplyOf, UpdatePlan, WritePlan } from '../store/write-plan.js';
import type { OpDeps, RequestContext } from './context.js';

const MAX_ATTEMPTS = 20;

type GuardedPlan = UpdatePlan | DeletePlan | RejectPlan;

export async function commitGuarded<P extends GuardedPlan>(
  deps: OpDeps,
  ctx: RequestContext,
  key: string,
  decide: (current: StoredRecord | undefined) => P,
): Promise<ReplyOf<P> | object> {
  const { store, writes } = deps;
  const first = await store.peek(ctx.nonce, key);
  if (first.replayed) return first.replayed;
  const plan = decide(first.record);
  // A refusal needs no queue: record it with the nonce and answer.
  if (plan.mode === 'reject') return done(await commit(deps, ctx, plan));
  const firstInLine = writes.isIdle(key);
  return writes.run(key, async () => {
    // First in line: nothing of ours ran since the peek; reuse its decision.
    let next: P | undefined = firstInLine ? plan : undefined;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      // Another worker changed the record between our read and commit: let it finish first.
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * 2 * attempt));
      if (!next) {
        const peek = await store.peek(ctx.nonce, key);
        if (peek.replayed) return peek.replayed;
        next = decide(peek.record);
      }
      const result = await commit(deps, ctx, next);
      if (result.status === 'done') return result.reply;
      next = undefined;
    }
    throw new UnavailableError(`secret "${key}" is changing too fast, retry`);
  }, ctx.caller.keyId);
}

/** Commits a plan; an applied change (it took a revision) wakes the watches of every worker (docs/protocol.md §14). */
export async function commit<P extends WritePlan>(deps: OpDeps, ctx: RequestContext, plan: P): Promise<WriteResult<ReplyOf<P>>> {
  const result = await deps.store.write(ctx.nonce, plan);
  if (result.status === 'done' && result.rev !== undefined) deps.watches?.changed(result.rev);
  return result;
}

function done<R>(result: { status: 'stale' } | { status: 'done'; reply: R }): R {
  if (result.status === 'stale') throw new UnavailableError('a refusal cannot go stale');
  return result.reply;
}

export function checkValueSize(deps: OpDeps, value: string | undefined): SecretSvcError | null {
  if (value === undefined || Buffer.byteLength(value, 'utf8') <= deps.maxValueBytes) return null;
  return new TooLargeError(`value is larger than ${deps.maxValueBytes} bytes`);
}

/** The refusal plan of a request. */
export function reject(ctx: RequestContext, key: string, error: SecretSvcError): RejectPlan {
  return { mode: 'reject', key, by: ctx.caller.slug, atMs: ctx.nowMs, error };
}
