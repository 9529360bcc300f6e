import type { RequestOf, WhoamiReply } from '@secret-svc/protocol';
import type { OpContext } from './context.js';

export async function whoami(ctx: OpContext, _req: RequestOf<'whoami'>): Promise<WhoamiReply> {
  await ctx.store.read(ctx.nonce, []); // claims the nonce: a whoami is answered once too
  const { slug, admin, issuer, expiresAtMs } = ctx.caller;
  return { slug, admin, issuer, expiresAt: expiresAtMs === null ? null : new Date(expiresAtMs).toISOString() };
}
