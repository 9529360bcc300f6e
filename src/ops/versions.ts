import type { RequestOf, VersionsReply } from '@secret-svc/protocol';
import { checkAccess } from '../policy.js';
import type { OpDeps, RequestContext } from './context.js';

/** The kept versions of a secret, newest first (docs/protocol.md §9); needs the read right. */
export async function versions(deps: OpDeps, ctx: RequestContext, req: RequestOf<'versions'>): Promise<VersionsReply> {
  const found = await deps.store.versions(ctx.nonce, ctx.caller, req.key);
  const denied = checkAccess(ctx.caller, req.key, found.record?.acl, 'read');
  if (denied) throw denied;
  return { key: req.key, versions: found.versions };
}
