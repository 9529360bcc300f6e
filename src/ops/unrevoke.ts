import { selectorOf, type RequestOf, type UnrevokeReply } from '@secret-svc/protocol';
import { adminOnly } from './admin.js';
import type { OpDeps, RequestContext } from './context.js';
import { refuse, revocationsChanged } from './revocation-change.js';

/** Removes exactly the entry with this selector (404 when there is none), then tells every worker. */
export async function unrevoke(deps: OpDeps, ctx: RequestContext, req: RequestOf<'unrevoke'>): Promise<UnrevokeReply> {
  const refused = adminOnly(ctx.caller, 'unrevoke');
  if (refused) return refuse(deps, ctx, refused);
  const reply = await deps.store.revocations.unrevoke(ctx.nonce, selectorOf(req));
  await revocationsChanged(deps);
  return reply;
}
