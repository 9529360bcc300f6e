/**
 * Write outcomes kept with the nonce, so a resent write envelope gets the first reply.
 * Stored as "w1|<digest>|<version>|<json>"; the version is filled in by the write script,
 * which is the one place that knows it. Reads store "r" and are never answered twice.
 */
import { errorFromStatus, UnauthenticatedError, type SecretSvcError } from '@secret-svc/protocol';

type Outcome = { s: 200; b: object } | { s: number; m: string };

const FORMAT = 'w1';

/** What the scripts store before `|<version>|<json>`: the format and the request's digest. */
export function outcomeHead(digest: string): string {
  return `${FORMAT}|${digest}`;
}

export function successOutcome(body: object): string {
  return JSON.stringify({ s: 200, b: body } satisfies Outcome);
}

export function errorOutcome(err: SecretSvcError): string {
  return JSON.stringify({ s: err.status, m: err.message } satisfies Outcome);
}

/** The body of a stored success outcome, or undefined when it is not one (revocation entries keep theirs). */
export function successBody(outcome: string): object | undefined {
  try {
    const parsed = JSON.parse(outcome) as Partial<{ s: number; b: unknown }>;
    return parsed.s === 200 && typeof parsed.b === 'object' && parsed.b !== null ? parsed.b : undefined;
  } catch {
    return undefined;
  }
}

/** The reply to a request whose nonce was already used: the stored one, or 401. Throws errors. */
export function replayReply(stored: string, digest: string): object {
  const parts = /^([^|]*)\|([^|]*)\|(\d+)\|(.*)$/s.exec(stored);
  if (!parts || parts[1] !== FORMAT || parts[2] !== digest) throw new UnauthenticatedError('nonce has already been used');
  const outcome = JSON.parse(parts[4]!) as Outcome;
  if (!('b' in outcome)) throw errorFromStatus(outcome.s, outcome.m);
  const body = outcome.b;
  return 'version' in body ? { ...body, version: Number(parts[3]) } : body;
}
