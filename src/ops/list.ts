import {
  BadRequestError, DEFAULT_LIST_LIMIT, fromBase64url, isValidKey, toBase64url,
  type ListReply, type RequestOf, type SecretMetadata,
} from '@secret-svc/protocol';
import { isVisible } from '../policy.js';
import { metadataOf } from '../store/record.js';
import type { OpDeps, RequestContext } from './context.js';

// Above every byte a key may hold (keys are ASCII), so "[prefix" .. "[prefix\u00ff" spans the prefix.
const PREFIX_END = '\u00ff';

export async function list(deps: OpDeps, ctx: RequestContext, req: RequestOf<'list'>): Promise<ListReply> {
  const prefix = req.prefix ?? '';
  const limit = req.limit ?? DEFAULT_LIST_LIMIT;
  const after = req.cursor === undefined ? undefined : decodeCursor(req.cursor);
  const min = after !== undefined && after >= prefix ? `(${after}` : `[${prefix}`;
  const max = prefix ? `[${prefix}${PREFIX_END}` : '+';
  const { caller } = ctx;
  const entries = await deps.store.list(ctx.nonce, caller, min, max, limit + 1);
  const page = entries.slice(0, limit);
  const secrets: SecretMetadata[] = [];
  for (const { key, record } of page) {
    // The index is kept in the same atomic writes; checking the record too costs nothing.
    if (record && isVisible(caller, record.acl)) secrets.push(metadataOf(key, record));
  }
  const last = page[page.length - 1];
  return { secrets, cursor: entries.length > limit && last ? encodeCursor(last.key) : null };
}

function encodeCursor(key: string): string {
  return toBase64url(Buffer.from(key, 'utf8'));
}

function decodeCursor(cursor: string): string {
  const key = fromBase64url(cursor)?.toString('utf8');
  if (key === undefined || !isValidKey(key)) throw new BadRequestError('"cursor" is not one this service returned');
  return key;
}
