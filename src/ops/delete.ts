import { ConflictError, type DeleteReply, type RequestOf } from '@secret-svc/protocol';
import { checkAccess } from '../policy.js';
import type { DeletePlan, RejectPlan } from '../store/write-plan.js';
import type { OpDeps, RequestContext } from './context.js';
import { commitGuarded, reject } from './write.js';

export function remove(deps: OpDeps, ctx: RequestContext, req: RequestOf<'delete'>): Promise<DeleteReply | object> {
  return commitGuarded(deps, ctx, req.key, (current): DeletePlan | RejectPlan => {
    const refused = checkAccess(ctx.caller, req.key, current?.acl, 'delete');
    if (refused) return reject(ctx, req.key, refused);
    return {
      mode: 'delete', key: req.key, by: ctx.caller.slug, atMs: ctx.nowMs, from: current!, ifVersion: req.ifVersion,
      reply: { key: req.key, deleted: true },
      conflict: new ConflictError(`secret "${req.key}" is not at version ${req.ifVersion}`),
    };
  });
}
