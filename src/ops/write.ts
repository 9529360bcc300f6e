/**
 * The shared path of create, update and delete: read the current record (and whether the
 * nonce was used), decide with the pure policy, then commit the decision and its outcome
 * atomically. A commit refused as stale (the record changed in between) decides again.
 */
import { ConflictError, TooLargeError, UnavailableError, type SecretSvcError } from '@secret-svc/protocol';
import { audience, type Acl } from '../policy.js';
import { errorOutcome, replayReply, successOutcome } from '../store/outcome.js';
import type { StoredRecord } from '../store/record.js';
import type { WriteCommand } from '../store/secret-store.js';
import type { OpContext } from './context.js';

const MAX_ATTEMPTS = 20;

export type Plan =
  | { reject: SecretSvcError }
  | { command: Omit<WriteCommand, 'successOutcome' | 'conflictOutcome' | 'key'>; reply: Record<string, unknown>; conflict: ConflictError };

export function applyWrite(
  ctx: OpContext,
  key: string,
  plan: (current: StoredRecord | undefined) => Plan,
  options: { readsCurrent: boolean },
): Promise<Record<string, unknown>> {
  // A create needs no current record, so it cannot go stale: no need to queue it.
  return options.readsCurrent ? ctx.writes.run(key, () => decideAndCommit(ctx, key, plan, true)) : decideAndCommit(ctx, key, plan, false);
}

async function decideAndCommit(
  ctx: OpContext,
  key: string,
  plan: (current: StoredRecord | undefined) => Plan,
  readsCurrent: boolean,
): Promise<Record<string, unknown>> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    // Another worker changed the record between our read and commit: let it finish first.
    if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * 2 * attempt));
    let current: StoredRecord | undefined;
    if (readsCurrent) {
      const peek = await ctx.store.peek(ctx.nonce, key);
      if (peek.used !== undefined) return replayReply(peek.used, ctx.nonce.digest);
      current = peek.record;
    }
    const p = plan(current);
    const command: WriteCommand = 'reject' in p
      ? { ...REJECT, key, successOutcome: errorOutcome(p.reject), conflictOutcome: '' }
      : { ...p.command, key, successOutcome: successOutcome(p.reply), conflictOutcome: errorOutcome(p.conflict) };
    const result = await ctx.store.write(ctx.nonce, command);
    switch (result.status) {
      case 'replay': return replayReply(result.stored, ctx.nonce.digest);
      case 'stale': continue;
      case 'conflict': throw (p as { conflict: ConflictError }).conflict;
      case 'ok':
        if ('reject' in p) throw p.reject;
        return 'version' in p.reply ? { ...p.reply, version: result.version } : p.reply;
    }
  }
  throw new UnavailableError(`secret "${key}" is changing too fast, retry`);
}

const REJECT: Omit<WriteCommand, 'key' | 'successOutcome' | 'conflictOutcome'> = {
  mode: 'reject', expectedAcl: '', ifVersion: undefined, aclField: '', removeFrom: [], addTo: [], created: '', updated: '', sealed: undefined,
};

export function checkValueSize(ctx: OpContext, value: string | undefined): SecretSvcError | null {
  if (value === undefined || Buffer.byteLength(value, 'utf8') <= ctx.maxValueBytes) return null;
  return new TooLargeError(`value is larger than ${ctx.maxValueBytes} bytes`);
}

/** Index changes when a secret's lists go from `before` to `after`. */
export function indexChanges(before: Acl | undefined, after: Acl | undefined): { removeFrom: string[]; addTo: string[] } {
  const was = new Set(before ? audience(before) : []);
  const will = new Set(after ? audience(after) : []);
  return { removeFrom: [...was].filter((s) => !will.has(s)), addTo: [...will].filter((s) => !was.has(s)) };
}
