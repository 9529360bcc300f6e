/** The filters of `secret-svc audit`: by slug, key prefix and status (the op is a subject filter). */
import { ERROR_CODES } from '@secret-svc/protocol';
import type { AuditEvent } from './event.js';

export interface EventFilter {
  slug?: string;
  /** Matches `key`, any of `keys`, or a list's `prefix` starting with it. */
  keyPrefix?: string;
  /** Parsed from --status: see statusMatcher. */
  status?: (status: number) => boolean;
}

export function eventFilter(f: EventFilter): (e: AuditEvent) => boolean {
  return (e) => {
    if (f.slug !== undefined && e.slug !== f.slug) return false;
    if (f.status && !f.status(e.status)) return false;
    if (f.keyPrefix !== undefined) {
      const p = f.keyPrefix;
      const hit = e.key?.startsWith(p) || e.keys?.some((k) => k.startsWith(p)) || e.prefix?.startsWith(p);
      if (!hit) return false;
    }
    return true;
  };
}

const CODE_STATUS = new Map<string, number>(Object.entries(ERROR_CODES).map(([s, c]) => [c, Number(s)]));

/** Words statusMatcher takes (shell completion offers them). */
export const STATUS_WORDS: readonly string[] = ['ok', '2xx', '4xx', '5xx', ...CODE_STATUS.keys()];

/**
 * `200`, `4xx`, `forbidden`, or a comma-separated list of those; undefined when a part is
 * none of them.
 */
export function statusMatcher(text: string): ((status: number) => boolean) | undefined {
  const parts = text.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (parts.length === 0) return undefined;
  const tests: ((s: number) => boolean)[] = [];
  for (const p of parts) {
    if (/^[1-5]\d\d$/.test(p)) tests.push((s) => s === Number(p));
    else if (/^[1-5]xx$/.test(p)) tests.push((s) => Math.floor(s / 100) === Number(p[0]));
    else if (p === 'ok') tests.push((s) => s === 200);
    else if (CODE_STATUS.has(p)) tests.push((s) => s === CODE_STATUS.get(p));
    else return undefined;
  }
  return (s) => tests.some((t) => t(s));
}
