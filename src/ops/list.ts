import {
  BadRequestError, DEFAULT_LIST_LIMIT, TooLargeError, fromBase64url, isValidKey, toBase64url,
  type ListReply, type RequestOf, type SecretMetadata,
} from '@secret-svc/protocol';
import { isVisible } from '../policy.js';
import { metadataOf } from '../store/record.js';
import type { OpDeps, RequestContext } from './context.js';
import { withinReplyBudget } from './reply-budget.js';

/**
 * The page's reply-byte grant per entry asked for (src/ops/reply-budget.ts): a page of
 * secrets with long lists ends early, with a cursor, rather than growing past it.
 */
const LIST_ESTIMATE_PER_ENTRY = 1024;
/** No page is larger, whatever the bus takes: a page of secrets with long lists is split into several. */
const LIST_PAGE_MAX_BYTES = 512 * 1024;

// Above every byte a key may hold (keys are ASCII), so "[prefix" .. "[prefix\u00ff" spans the prefix.
const PREFIX_END = '\u00ff';

export async function list(deps: OpDeps, ctx: RequestContext, req: RequestOf<'list'>): Promise<ListReply> {
  const prefix = req.prefix ?? '';
  const limit = req.limit ?? DEFAULT_LIST_LIMIT;
  const after = req.cursor === undefined ? undefined : decodeCursor(req.cursor);
  const min = after !== undefined && after >= prefix ? `(${after}` : `[${prefix}`;
  const max = prefix ? `[${prefix}${PREFIX_END}` : '+';
  const { caller } = ctx;
  const { entries, more } = await withinReplyBudget(
    ctx,
    { kind: 'list', units: limit, perUnit: LIST_ESTIMATE_PER_ENTRY, cap: LIST_PAGE_MAX_BYTES, partial: true },
    async (budgetBytes) => {
      const page = await deps.store.list(ctx.nonce, caller, min, max, { limit, budgetBytes });
      return { ...page, units: page.entries.length };
    },
    (bytes) => new TooLargeError(`a listed secret's metadata takes about ${bytes} bytes, more than a reply may carry on this bus (max_payload ${ctx.replyLimitBytes} bytes)`),
  );
  const secrets: SecretMetadata[] = [];
  for (const { key, record } of entries) {
    // The index is kept in the same atomic writes; checking the record too costs nothing.
    if (record && isVisible(caller, record.acl)) secrets.push(metadataOf(key, record));
  }
  // A page may end before `limit` (its byte budget): the cursor then says more follow (docs/protocol.md §4).
  const last = entries[entries.length - 1];
  return { secrets, cursor: more && last ? encodeCursor(last.key) : null };
}

function encodeCursor(key: string): string {
  return toBase64url(Buffer.from(key, 'utf8'));
}

function decodeCursor(cursor: string): string {
  const key = fromBase64url(cursor)?.toString('utf8');
  if (key === undefined || !isValidKey(key)) throw new BadRequestError('"cursor" is not one this service returned');
  return key;
}
