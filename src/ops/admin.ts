/** The administrator-only ops (docs/protocol.md §10): the caller's right, decided after the request validated. */
import { ForbiddenError } from '@secret-svc/protocol';
import type { Caller } from '../auth/caller.js';

export function adminOnly(caller: Caller, op: string): ForbiddenError | null {
  return caller.admin ? null : new ForbiddenError(`"${caller.slug}" may not ${op}: administrators only`);
}
