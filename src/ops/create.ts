import { ConflictError, type RequestOf, type SecretMetadata } from '@secret-svc/protocol';
import { checkCreate, initialAcl } from '../policy.js';
import type { CreatePlan, RejectPlan } from '../store/write-plan.js';
import type { OpDeps, RequestContext } from './context.js';
import { checkValueSize, commit, reject } from './write.js';

export async function create(deps: OpDeps, ctx: RequestContext, req: RequestOf<'create'>): Promise<SecretMetadata | object> {
  const { caller, nowMs } = ctx;
  const refused = checkCreate(caller, req.key) ?? checkValueSize(deps, req.value);
  let plan: CreatePlan | RejectPlan;
  if (refused) {
    plan = reject(ctx, req.key, refused);
  } else {
    const acl = initialAcl(caller, req);
    const at = new Date(nowMs).toISOString();
    plan = {
      mode: 'create', key: req.key, by: caller.slug, atMs: nowMs, value: req.value, acl,
      reply: { key: req.key, ...acl, version: 1, createdAt: at, updatedAt: at, createdBy: caller.slug, updatedBy: caller.slug },
      conflict: new ConflictError(`secret "${req.key}" already exists`),
    };
  }
  // A create needs no current record, so it cannot go stale: no queue, one round trip.
  const result = await commit(deps, ctx, plan);
  if (result.status === 'stale') throw new ConflictError(`secret "${req.key}" already exists`);
  return result.reply;
}
