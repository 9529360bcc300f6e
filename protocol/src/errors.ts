/** Protocol errors (docs/protocol.md §5): each class carries its status and code. */

export const ERROR_CODES = {
  400: 'bad_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'too_large',
  500: 'internal',
  503: 'unavailable',
} as const;

export type ErrorStatus = keyof typeof ERROR_CODES;
export type ErrorCode = (typeof ERROR_CODES)[ErrorStatus];

export interface ErrorBody {
  error: { status: number; code: string; message: string };
}

/**
 * Quotes caller-supplied text (a field name, an op) for an error message: JSON string
 * syntax with every non-ASCII character escaped, so the message is one line of plain
 * ASCII and can travel unchanged in the Nats-Service-Error header.
 */
export function quoteInput(text: string, max = 64): string {
  return JSON.stringify(text.slice(0, max)).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Base class: never put a secret value in `message`. */
export class SecretSvcError extends Error {
  readonly status: ErrorStatus;
  readonly code: ErrorCode;
  constructor(status: ErrorStatus, message: string) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.code = ERROR_CODES[status];
  }
  toBody(): ErrorBody {
    return { error: { status: this.status, code: this.code, message: this.message } };
  }
}

export class BadRequestError extends SecretSvcError {
  constructor(message: string) { super(400, message); }
}
export class UnauthenticatedError extends SecretSvcError {
  constructor(message: string) { super(401, message); }
}
export class ForbiddenError extends SecretSvcError {
  constructor(message: string) { super(403, message); }
}
export class NotFoundError extends SecretSvcError {
  constructor(message: string) { super(404, message); }
}
export class ConflictError extends SecretSvcError {
  constructor(message: string) { super(409, message); }
}
export class TooLargeError extends SecretSvcError {
  constructor(message: string) { super(413, message); }
}
export class InternalError extends SecretSvcError {
  constructor(message: string) { super(500, message); }
}
export class UnavailableError extends SecretSvcError {
  constructor(message: string) { super(503, message); }
}

const BY_STATUS: Record<ErrorStatus, new (message: string) => SecretSvcError> = {
  400: BadRequestError,
  401: UnauthenticatedError,
  403: ForbiddenError,
  404: NotFoundError,
  409: ConflictError,
  413: TooLargeError,
  500: InternalError,
  503: UnavailableError,
};

export function isErrorStatus(status: number): status is ErrorStatus {
  return Object.prototype.hasOwnProperty.call(BY_STATUS, status);
}

/** Rebuilds the typed error from a reply's status (an unknown status becomes 500). */
export function errorFromStatus(status: number, message: string): SecretSvcError {
  const Ctor = isErrorStatus(status) ? BY_STATUS[status] : InternalError;
  return new Ctor(message);
}

/** Reads an error reply body; returns undefined for a success body. */
export function errorFromBody(body: unknown): SecretSvcError | undefined {
  if (typeof body !== 'object' || body === null || !('error' in body)) return undefined;
  const err = (body as { error: unknown }).error;
  if (typeof err !== 'object' || err === null) return new InternalError('malformed error reply');
  const { status, message } = err as { status?: unknown; message?: unknown };
  return errorFromStatus(typeof status === 'number' ? status : 500, typeof message === 'string' ? message : 'error');
}
