/** Local errors of the client: problems with the caller's own credential or key (no request was sent). */

export type IdentityProblem = 'missing' | 'unreadable' | 'invalid' | 'mismatch';

/** The credential or private key is missing, unreadable, malformed, or the two do not belong together. */
export class IdentityError extends Error {
  constructor(readonly problem: IdentityProblem, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IdentityError';
  }
}
