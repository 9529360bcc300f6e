/** watch (docs/protocol.md §14): the request's filter and wait, handed to the worker's WatchHub. */
import { DEFAULT_WATCH_WAIT_MS, InternalError, type RequestOf, type WatchReply } from '@secret-svc/protocol';
import type { Later } from '../later.js';
import type { OpDeps, RequestContext } from './context.js';

/** The reply at once, or a Later when the watch is held (src/later.ts). */
export async function watch(deps: OpDeps, ctx: RequestContext, req: RequestOf<'watch'>): Promise<WatchReply | Later<WatchReply>> {
  if (!deps.watches) throw new InternalError('this worker does not serve watch');
  return deps.watches.answer({
    caller: ctx.caller,
    nonce: ctx.nonce,
    filter: req.keys ? { keys: new Set(req.keys) } : req.prefix !== undefined ? { prefix: req.prefix } : {},
    since: req.since,
    waitMs: req.wait ?? DEFAULT_WATCH_WAIT_MS,
    release: ctx.release,
  });
}
