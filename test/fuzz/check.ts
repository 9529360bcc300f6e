/** Judging one reply to a hostile case, and the running counts the fuzz tests print. */
import { headers as natsHeaders } from 'nats';
import { decodeBody, ERROR_CODES, ERROR_MESSAGE_HEADER, sniffEncoding, type ErrorStatus } from '@secret-svc/protocol';
import type { Case } from './hostile.js';

export interface Verdict {
  status: number;
  /** Why the reply is wrong, or undefined when it is a proper 4xx error reply. */
  problem: string | undefined;
}

/**
 * A proper refusal: status 4xx, a body in the request's encoding (JSON when the body was
 * JSON or could not be decoded) that carries the same status, code and message, and a
 * message the Nats-Service-Error header can hold.
 */
export function judge(c: Case, status: number, replyBody: Uint8Array, headerMessage?: string): Verdict {
  if (status < 400 || status >= 500) return { status, problem: `status ${status}` };
  const replyEncoding = replyBody[0] === 0x7b ? 'json' : 'msgpack';
  if (sniffEncoding(c.body) === 'json' && replyEncoding !== 'json') return { status, problem: 'JSON request answered in MessagePack' };
  let body: { error?: { status?: unknown; code?: unknown; message?: unknown } } | undefined;
  try {
    body = decodeBody(replyBody, replyEncoding) as typeof body;
  } catch {
    return { status, problem: 'reply body does not decode' };
  }
  const e = body?.error;
  if (!e || e.status !== status || e.code !== ERROR_CODES[status as ErrorStatus] || typeof e.message !== 'string') {
    return { status, problem: 'reply body is not the error body for its status' };
  }
  if (headerMessage !== undefined && headerMessage !== e.message.trim()) return { status, problem: 'header message differs from body' };
  try {
    natsHeaders().set(ERROR_MESSAGE_HEADER, e.message);
  } catch {
    return { status, problem: `error message ${JSON.stringify(e.message.slice(0, 80))} cannot go in a NATS header (the service then sends no reply)` };
  }
  return { status, problem: undefined };
}

export class FuzzTally {
  sent = 0;
  answered4xx = 0;
  byKind = new Map<string, { sent: number; statuses: Record<number, number> }>();
  problems: string[] = [];

  record(c: Case, v: Verdict): void {
    this.sent++;
    const k = this.byKind.get(c.kind) ?? { sent: 0, statuses: {} };
    k.sent++;
    k.statuses[v.status] = (k.statuses[v.status] ?? 0) + 1;
    this.byKind.set(c.kind, k);
    if (v.problem === undefined) this.answered4xx++;
    else if (this.problems.length < 10) this.problems.push(`${c.kind} on ${c.op}: ${v.problem} (body ${Buffer.from(c.body.subarray(0, 80)).toString('hex')}…)`);
  }

  kinds(): string {
    return [...this.byKind].map(([kind, k]) => `  ${kind}: ${k.sent} → ${Object.entries(k.statuses).map(([s, n]) => `${s}×${n}`).join(' ')}`).join('\n');
  }
}
