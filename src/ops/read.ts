import { NotFoundError, TooLargeError, type ReadManyReply, type RequestOf, type Secret } from '@secret-svc/protocol';
import { checkAccess } from '../policy.js';
import { metadataOf, type StoredRecord } from '../store/record.js';
import { IntegrityError } from '../store/seal.js';
import type { SecretStore } from '../store/secret-store.js';
import type { OpDeps, RequestContext } from './context.js';
import { withinReplyBudget } from './reply-budget.js';

/**
 * The first reply-byte grant per key before the caller's own reads say otherwise
 * (src/ops/reply-budget.ts): most secrets are small, so most reads take one round trip.
 */
const READ_ESTIMATE_PER_KEY = 4096;
/** A batch read yields to other requests after opening this many value bytes. */
const YIELD_EVERY_BYTES = 128 * 1024;

export async function read(deps: OpDeps, ctx: RequestContext, req: RequestOf<'read'>): Promise<Secret | ReadManyReply> {
  const { store } = deps;
  const keys = req.keys ?? [req.key!];
  const { records, old } = await withinReplyBudget(
    ctx,
    { kind: 'read', units: keys.length, perUnit: READ_ESTIMATE_PER_KEY, cap: Infinity, partial: false },
    async (budgetBytes) => ({ ...(await store.read(ctx.nonce, ctx.caller, keys, { budgetBytes, version: req.version })), units: keys.length }),
    // The message names the bus limit the caller can look up; the budget is that limit less any sealing.
    (bytes) => new TooLargeError(`the values asked for total about ${bytes} bytes, more than a reply may carry on this bus (max_payload ${ctx.replyLimitBytes} bytes): ask for fewer keys`),
  );
  if (req.key !== undefined) {
    const record = records[0];
    const denied = checkAccess(ctx.caller, req.key, record?.acl, 'read');
    if (denied) throw denied;
    if (req.version === undefined || req.version === record!.version) return open(store, record!);
    if (!old) throw new NotFoundError(`secret "${req.key}": version ${req.version} is not kept`);
    // Lists and created stamp as they are now; value and updated stamp as written then.
    return { ...metadataOf(req.key, { ...record!, version: old.version, updatedAt: old.updatedAt, updatedBy: old.updatedBy }), value: store.open(old.sealed) };
  }
  const reply: ReadManyReply = { secrets: [], missing: [], denied: [] };
  let sinceYield = 0;
  for (const [i, key] of keys.entries()) {
    const record = records[i];
    const denied = checkAccess(ctx.caller, key, record?.acl, 'read');
    if (denied) {
      (denied.status === 404 ? reply.missing : reply.denied).push(key);
      continue;
    }
    const secret = open(store, record!);
    reply.secrets.push(secret);
    // Opening many large values is the longest stretch of a read: let other requests in between.
    sinceYield += secret.value.length;
    if (sinceYield >= YIELD_EVERY_BYTES) {
      sinceYield = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  return reply;
}

function open(store: SecretStore, record: StoredRecord): Secret {
  if (!record.sealed) throw new IntegrityError('stored record has no value');
  const secret = metadataOf(record.key, record) as Secret;
  secret.value = store.open(record.sealed);
  return secret;
}
