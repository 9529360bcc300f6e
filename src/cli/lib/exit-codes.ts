/** Exit codes and error lines of the CLI; documented in `secret-svc --help`. */
import { SecretSvcError } from '@secret-svc/protocol';

export const EXIT = {
  ok: 0,
  other: 1,
  usage: 2,
  notFound: 3,
  forbidden: 4,
  unauthenticated: 5,
  conflict: 6,
  unavailable: 7,
} as const;

export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  any other error (e.g. 500 internal)
  2  usage: bad arguments or options, missing configuration, or a request the
     service rejects as invalid (400 bad_request, 413 too_large)
  3  not found (404 not_found: no such secret, or not visible to you)
  4  forbidden (403 forbidden)
  5  unauthenticated (401: bad, expired or untrusted credential, clock skew)
  6  conflict (409: key exists, or --if-version is not the current version)
  7  unavailable (503, no worker answering, NATS unreachable, timeout)`;

/** A mistake in how the CLI was called or configured (exit 2). */
export class UsageError extends Error {}

/** A local failure with a chosen exit code (e.g. dev cannot find nats-server). */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

const BY_STATUS: Record<number, number> = {
  400: EXIT.usage,
  413: EXIT.usage,
  404: EXIT.notFound,
  403: EXIT.forbidden,
  401: EXIT.unauthenticated,
  409: EXIT.conflict,
  503: EXIT.unavailable,
};

/** NATS client errors that mean "nobody to talk to". */
const NATS_UNAVAILABLE = new Set(['503', 'CONNECTION_REFUSED', 'TIMEOUT', 'NO_RESPONDERS', 'CONNECTION_CLOSED', 'CONNECTION_TIMEOUT', 'DISCONNECT']);

export function exitCodeFor(err: unknown): number {
  if (err instanceof SecretSvcError) return BY_STATUS[err.status] ?? EXIT.other;
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof CliError) return err.exitCode;
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && NATS_UNAVAILABLE.has(code)) return EXIT.unavailable;
  return EXIT.other;
}

/** `error: <status> <code>: <message>` for protocol errors, `error: <message>` otherwise. */
export function errorLine(err: unknown): string {
  if (err instanceof SecretSvcError) return `error: ${err.status} ${err.code}: ${err.message}`;
  const code = (err as { code?: unknown } | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof code === 'string' && NATS_UNAVAILABLE.has(code)) return `error: cannot reach NATS: ${message}`;
  return `error: ${message}`;
}
