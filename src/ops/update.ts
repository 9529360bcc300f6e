import { ConflictError, type RequestOf, type SecretMetadata } from '@secret-svc/protocol';
import { checkAccess, updatedAcl } from '../policy.js';
import { metadataOf } from '../store/record.js';
import type { RejectPlan, UpdatePlan } from '../store/write-plan.js';
import type { OpDeps, RequestContext } from './context.js';
import { checkValueSize, commitGuarded, reject } from './write.js';

export function update(deps: OpDeps, ctx: RequestContext, req: RequestOf<'update'>): Promise<SecretMetadata | object> {
  const { caller, nowMs } = ctx;
  return commitGuarded(deps, ctx, req.key, (current): UpdatePlan | RejectPlan => {
    const refused = checkAccess(caller, req.key, current?.acl, 'update') ?? checkValueSize(deps, req.value);
    if (refused) return reject(ctx, req.key, refused);
    const from = current!;
    const acl = updatedAcl(from.acl, req);
    const at = new Date(nowMs).toISOString();
    return {
      mode: 'update', key: req.key, by: caller.slug, atMs: nowMs, from, value: req.value, acl, ifVersion: req.ifVersion,
      reply: metadataOf(req.key, { ...from, acl, version: from.version + 1, updatedAt: at, updatedBy: caller.slug }),
      conflict: new ConflictError(`secret "${req.key}" is not at version ${req.ifVersion}`),
    };
  });
}
