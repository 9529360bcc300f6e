import { selectorOf, type RequestOf, type RevokeReply } from '@secret-svc/protocol';
import { adminOnly } from './admin.js';
import type { OpDeps, RequestContext } from './context.js';
import { refuse, revocationsChanged } from './revocation-change.js';

/** Adds a revocation entry (or answers with the existing one's at and by), then tells every worker. */
export async function revoke(deps: OpDeps, ctx: RequestContext, req: RequestOf<'revoke'>): Promise<RevokeReply> {
  const refused = adminOnly(ctx.caller, 'revoke');
  if (refused) return refuse(deps, ctx, refused);
  const reply = await deps.store.revocations.revoke(ctx.nonce, selectorOf(req), ctx.caller.slug, ctx.nowMs);
  await revocationsChanged(deps);
  return reply;
}
