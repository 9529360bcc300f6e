/** The authenticate step's caller check (AuthenticatorOptions.checkCaller): map lookups, no I/O. */
import { UnauthenticatedError } from '@secret-svc/protocol';
import type { RevocationSubject } from './selector.js';
import type { RevocationSet } from './set.js';

export function refuseRevoked(set: RevocationSet): (caller: RevocationSubject) => void {
  return (caller) => {
    if (set.isRevoked(caller)) throw new UnauthenticatedError('credential has been revoked');
  };
}
