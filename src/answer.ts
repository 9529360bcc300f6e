/**
 * One answered request: the audit facts of it (docs/protocol.md §11) and the reply that
 * carries it. The pipeline fills the facts as it learns them; the audit gate decides when
 * the reply may leave; the trail's buildEvent copies only the fields §11 names, so the
 * reply bytes on the same object never reach the trail.
 */
import { selectorOf, type Encoding, type Op, type RequestOf, type SecretSvcError } from '@secret-svc/protocol';
import type { Known } from './auth/authenticate.js';
import type { AuditFacts } from './audit/event.js';

export interface Answer extends AuditFacts {
  /** When the reply was decided (the worker's clock). */
  time: Date;
  encoding: Encoding;
  /** The reply bytes, in `encoding`. */
  body: Uint8Array;
  error: SecretSvcError | undefined;
}

/** Ops whose request object is a selector (docs/protocol.md §10). */
const SELECTOR_OPS: ReadonlySet<Op> = new Set<Op>(['revoke', 'unrevoke']);

/**
 * The answer to `op` with what authentication learnt (`known`: who asked once the credential
 * verified, what for once the request object was read) and, on success, what the op's
 * result reports (the version read or written, how many listed or changed).
 */
export function answerOf(
  op: Op, known: Known, reply: { body: Uint8Array; error: SecretSvcError | undefined; decidedAtMs: number; result?: object },
): Answer {
  const { caller, request } = known;
  const { error, result } = reply;
  const a: Answer = {
    op, status: error ? error.status : 200, time: new Date(reply.decidedAtMs), encoding: known.encoding, body: reply.body, error,
  };
  if (error) a.code = error.code;
  if (caller) {
    a.slug = caller.slug;
    a.admin = caller.admin;
    a.keyId = caller.keyId;
    if (caller.jti !== null) a.jti = caller.jti;
  }
  if (known.session) a.session = true;
  if (request) {
    if (SELECTOR_OPS.has(op)) a.selector = selectorOf(request as RequestOf<'revoke'>);
    if ('key' in request && request.key !== undefined) a.key = request.key;
    if ('keys' in request && request.keys !== undefined) a.keys = request.keys;
    if ('prefix' in request && request.prefix !== undefined) a.prefix = request.prefix;
    if ('rollbackOf' in request && request.rollbackOf !== undefined) a.rollbackOf = request.rollbackOf;
  }
  if (request && result) {
    // docs/protocol.md §11: the version of a single read, create or update; the size of a list page; the changes a watch reported.
    const single = op === 'create' || op === 'update' || (op === 'read' && 'key' in request && request.key !== undefined);
    if (single && 'version' in result && typeof result.version === 'number') a.version = result.version;
    if (op === 'list' && 'secrets' in result && Array.isArray(result.secrets)) a.count = result.secrets.length;
    if (op === 'watch' && 'changes' in result && Array.isArray(result.changes)) a.count = result.changes.length;
  }
  return a;
}
