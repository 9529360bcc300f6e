/** The request signature: by the credential's cnf key, over the exact signed bytes. */
import { signedBytes, UnauthenticatedError, verifyBytes, type Envelope } from '@secret-svc/protocol';
import type { VerifiedCredential } from './caller.js';

export function checkSignature(cred: VerifiedCredential, envelope: Envelope): void {
  if (!verifyBytes(cred.publicKey, signedBytes(envelope.cred, envelope.payload), envelope.sig)) {
    throw new UnauthenticatedError('request signature is invalid');
  }
}
