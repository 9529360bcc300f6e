import { ConflictError, type DeleteReply, type RequestOf } from '@secret-svc/protocol';
import { checkAccess } from '../policy.js';
import type { OpContext } from './context.js';
import { applyWrite, indexChanges } from './write.js';

export async function remove(ctx: OpContext, req: RequestOf<'delete'>): Promise<DeleteReply> {
  const reply = await applyWrite(ctx, req.key, (current) => {
    const refused = checkAccess(ctx.caller, req.key, current?.acl, 'delete');
    if (refused) return { reject: refused };
    return {
      command: {
        mode: 'delete', expectedAcl: current!.aclField, ifVersion: req.ifVersion, aclField: '',
        ...indexChanges(current!.acl, undefined), created: '', updated: '', sealed: undefined,
      },
      reply: { key: req.key, deleted: true },
      conflict: new ConflictError(`secret "${req.key}" is not at version ${req.ifVersion}`),
    };
  }, { readsCurrent: true });
  return reply as unknown as DeleteReply;
}
