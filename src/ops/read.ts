import type { ReadManyReply, RequestOf, Secret } from '@secret-svc/protocol';
import { checkAccess } from '../policy.js';
import { bindingOf, metadataOf, type StoredRecord } from '../store/record.js';
import { IntegrityError } from '../store/seal.js';
import type { OpContext } from './context.js';

export async function read(ctx: OpContext, req: RequestOf<'read'>): Promise<Secret | ReadManyReply> {
  const keys = req.keys ?? [req.key!];
  const records = await ctx.store.read(ctx.nonce, keys);
  if (req.key !== undefined) {
    const denied = checkAccess(ctx.caller, req.key, records[0]?.acl, 'read');
    if (denied) throw denied;
    return open(ctx, req.key, records[0]!);
  }
  const reply: ReadManyReply = { secrets: [], missing: [], denied: [] };
  keys.forEach((key, i) => {
    const record = records[i];
    const denied = checkAccess(ctx.caller, key, record?.acl, 'read');
    if (!denied) reply.secrets.push(open(ctx, key, record!));
    else if (denied.status === 404) reply.missing.push(key);
    else reply.denied.push(key);
  });
  return reply;
}

function open(ctx: OpContext, key: string, record: StoredRecord): Secret {
  if (!record.sealed) throw new IntegrityError('stored record has no value');
  return { ...metadataOf(key, record), value: ctx.sealer.open(bindingOf(key, record.aclField), record.sealed) };
}
