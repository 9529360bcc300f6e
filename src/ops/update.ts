import { ConflictError, type RequestOf, type SecretMetadata } from '@secret-svc/protocol';
import { checkAccess, updatedAcl } from '../policy.js';
import { aclField, bindingOf, metadataOf, stampField } from '../store/record.js';
import { IntegrityError } from '../store/seal.js';
import type { OpContext } from './context.js';
import { applyWrite, checkValueSize, indexChanges } from './write.js';

export async function update(ctx: OpContext, req: RequestOf<'update'>): Promise<SecretMetadata> {
  const { caller, now, sealer } = ctx;
  const reply = await applyWrite(ctx, req.key, (current) => {
    const refused = checkAccess(caller, req.key, current?.acl, 'update') ?? checkValueSize(ctx, req.value);
    if (refused) return { reject: refused };
    const record = current!;
    const acl = updatedAcl(record.acl, req);
    const field = aclField(acl);
    let sealed: Buffer | undefined;
    if (req.value !== undefined) {
      sealed = sealer.seal(bindingOf(req.key, field), req.value);
    } else if (field !== record.aclField) {
      // The value is bound to its lists: new lists mean sealing the same value again.
      if (!record.sealed) throw new IntegrityError('stored record has no value');
      sealed = sealer.seal(bindingOf(req.key, field), sealer.open(bindingOf(req.key, record.aclField), record.sealed));
    }
    const at = now.toISOString();
    return {
      command: {
        mode: 'update', expectedAcl: record.aclField, ifVersion: req.ifVersion, aclField: field,
        ...indexChanges(record.acl, acl), created: '', updated: stampField(now.getTime(), caller.slug), sealed,
      },
      reply: { ...metadataOf(req.key, { ...record, acl, updatedAt: at, updatedBy: caller.slug }) },
      conflict: new ConflictError(`secret "${req.key}" is not at version ${req.ifVersion}`),
    };
  }, { readsCurrent: true });
  return reply as unknown as SecretMetadata;
}
