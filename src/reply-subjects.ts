/**
 * Which reply subjects a worker answers (docs/protocol.md §15). A reply is published with the
 * worker's NATS permissions: answered on a `$JS.API.…` subject it would be a JetStream API
 * call made by the worker (a purge of its own audit stream), on `<prefix>.…` a message to
 * other workers. So only replies whose subject begins with an allowed inbox prefix are
 * answered; every other request is dropped before anything in it is read.
 */

export const DEFAULT_REPLY_PREFIXES: readonly string[] = ['_INBOX'];

/** NATS subject tokens, no wildcards (a leading `$` is refused: system and API subjects). */
const PREFIX_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** True when `reply` begins with one of `prefixes` (`_INBOX` also covers `_INBOX_deploy-svc.…`). */
export function replyAllowed(prefixes: readonly string[], reply: string | undefined): boolean {
  if (!reply) return false;
  for (const p of prefixes) if (reply.startsWith(p)) return true;
  return false;
}

/** Why a SECRET_SVC_REPLY_PREFIXES entry cannot be used, or undefined. */
export function replyPrefixProblem(prefix: string, subjectPrefix: string): string | undefined {
  if (!PREFIX_RE.test(prefix)) return `"${prefix.slice(0, 60)}" is not NATS subject tokens (letters, digits, _ and -, separated by dots; no $ or wildcards)`;
  // A prefix covering the service's own subjects would let a reply reach workers or the trail.
  if (`${subjectPrefix}.`.startsWith(prefix) || prefix.startsWith(`${subjectPrefix}.`)) {
    return `"${prefix}" would cover subjects under ${subjectPrefix}. (SECRET_SVC_SUBJECT_PREFIX): replies must not reach the service's own subjects`;
  }
  return undefined;
}
