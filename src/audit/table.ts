/** One line per audit event for a terminal; fixed column widths, so following needs no look-ahead. */
import type { AuditEvent, AuditSelector } from './event.js';

const COLUMNS = [['TIME', 24], ['OP', 11], ['STATUS', 19], ['WHO', 22], ['WHAT', 40], ['DETAIL', 0]] as const;

const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(COLUMNS[i]![1]))).join(' ').trimEnd();

export function tableHeader(): string {
  return line(COLUMNS.map(([name]) => name));
}

export function tableRow(e: AuditEvent): string {
  const status = e.code ? `${e.status} ${e.code}` : String(e.status);
  const who = e.slug === undefined ? '-' : `${e.slug}${e.admin ? ' (admin)' : ''}`;
  const what = e.key ?? e.keys?.join(',') ?? (e.prefix !== undefined ? `${e.prefix}*` : undefined) ?? (e.selector ? selectorText(e.selector) : '');
  const detail: string[] = [];
  if (e.version !== undefined) detail.push(`v${e.version}`);
  if (e.rollbackOf !== undefined) detail.push(`rollback of v${e.rollbackOf}`);
  // A successful list's page size; on any other event, how many folded requests it stands for.
  if (e.count !== undefined) detail.push(e.op === 'list' && e.status === 200 ? `${e.count} listed` : `x${e.count} requests`);
  if (e.session) detail.push('session');
  if (e.jti !== undefined) detail.push(`jti=${e.jti}`);
  return line([e.time, e.op, status, who, what, detail.join(' ')]);
}

function selectorText(s: AuditSelector): string {
  if ('keyId' in s) return `keyId=${s.keyId}`;
  if ('jti' in s) return `jti=${s.jti}`;
  return `slug=${s.slug} issuedBefore=${new Date(s.issuedBefore * 1000).toISOString()}`;
}
