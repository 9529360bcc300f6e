import type { RequestOf, RevocationsReply } from '@secret-svc/protocol';
import { adminOnly } from './admin.js';
import type { OpDeps, RequestContext } from './context.js';

/** Every revocation entry in the order made, read from the store (not this worker's copy). */
export async function revocations(deps: OpDeps, ctx: RequestContext, _req: RequestOf<'revocations'>): Promise<RevocationsReply> {
  const refused = adminOnly(ctx.caller, 'revocations');
  if (refused) {
    await deps.store.claim(ctx.nonce); // a refused read is answered once too
    throw refused;
  }
  return { revocations: await deps.store.revocations.list(ctx.nonce) };
}
