/**
 * The `session` op (docs/protocol.md §12): a signed request opens a session. An op like whoami
 * (its nonce claimed, a reply about the caller) rather than part of authentication, which
 * only says who asks; its reply is in the clear (it holds no value, and the caller has no
 * reply key yet). A `session` request inside a session envelope never gets here (400 first).
 */
import type { RequestOf, SessionReply } from '@secret-svc/protocol';
import { openSession } from '../session/handshake.js';
import type { OpDeps, RequestContext } from './context.js';

export async function session(deps: OpDeps, ctx: RequestContext, req: RequestOf<'session'>): Promise<SessionReply> {
  await deps.store.claim(ctx.nonce); // a handshake is answered once too
  return openSession(ctx.caller, req.epk, ctx.nowMs, deps.sessions);
}
