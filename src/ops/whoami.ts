import type { RequestOf, WhoamiReply } from '@secret-svc/protocol';
import type { OpDeps, RequestContext } from './context.js';

export async function whoami(deps: OpDeps, ctx: RequestContext, _req: RequestOf<'whoami'>): Promise<WhoamiReply> {
  await deps.store.claim(ctx.nonce); // a whoami is answered once too
  const { slug, admin, issuer, expiresAtMs } = ctx.caller;
  return { slug, admin, issuer, expiresAt: expiresAtMs === null ? null : new Date(expiresAtMs).toISOString() };
}
