import { ConflictError, type RequestOf, type SecretMetadata } from '@secret-svc/protocol';
import { checkCreate, initialAcl } from '../policy.js';
import { aclField, bindingOf, metadataOf, stampField } from '../store/record.js';
import type { OpContext } from './context.js';
import { applyWrite, checkValueSize, indexChanges } from './write.js';

export async function create(ctx: OpContext, req: RequestOf<'create'>): Promise<SecretMetadata> {
  const { caller, now } = ctx;
  const reply = await applyWrite(ctx, req.key, () => {
    const refused = checkCreate(caller, req.key) ?? checkValueSize(ctx, req.value);
    if (refused) return { reject: refused };
    const acl = initialAcl(caller, req);
    const field = aclField(acl);
    const at = now.toISOString();
    const stamp = stampField(now.getTime(), caller.slug);
    return {
      command: {
        mode: 'create', expectedAcl: '', ifVersion: undefined, aclField: field, ...indexChanges(undefined, acl),
        created: stamp, updated: stamp, sealed: ctx.sealer.seal(bindingOf(req.key, field), req.value),
      },
      reply: { ...metadataOf(req.key, { version: 1, acl, createdAt: at, createdBy: caller.slug, updatedAt: at, updatedBy: caller.slug }) },
      conflict: new ConflictError(`secret "${req.key}" already exists`),
    };
  }, { readsCurrent: false });
  return reply as unknown as SecretMetadata;
}
