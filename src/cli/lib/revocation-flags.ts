/** The selector flags of `revoke` and `unrevoke` (docs/protocol.md §10) and how entries are shown. */
import { Option, type Command } from 'commander';
import { isOneSelector, selectorOf, type RevocationEntry, type RevocationSelector, type SelectorFields } from '@secret-svc/protocol';
import { UsageError } from './exit-codes.js';

export type SelectorFlags = SelectorFields;

export function addSelectorOptions(cmd: Command): Command {
  return cmd
    .option('--key-id <key>', 'credentials whose cnf key is this public key (base64url)')
    .option('--jti <jti>', 'the credential with this jti')
    .option('--slug <slug>', 'credentials of this slug issued before --issued-before (or without iat)')
    .addOption(new Option('--issued-before <when>', 'with --slug: seconds since the epoch, an ISO time, or "now"').argParser(parseWhen));
}

/** `now`, an ISO time, or whole seconds since the epoch → seconds since the epoch. */
export function parseWhen(text: string, nowMs = Date.now()): number {
  const t = text.trim();
  if (t === 'now') return Math.floor(nowMs / 1000);
  if (/^\d+$/.test(t)) {
    const seconds = Number(t);
    if (Number.isSafeInteger(seconds)) return seconds;
  } else if (/^\d{4}-\d\d-\d\d/.test(t)) {
    const ms = Date.parse(t);
    if (Number.isFinite(ms) && ms >= 0) return Math.floor(ms / 1000);
  }
  throw new UsageError(`invalid time "${text}" (give seconds since the epoch, an ISO time such as 2026-01-31T12:00:00Z, or "now")`);
}

/** Exactly one selector form from the flags (the worker checks the values: 400). */
export function selectorFrom(o: SelectorFlags): RevocationSelector {
  if ((o.slug === undefined) !== (o.issuedBefore === undefined)) throw new UsageError('--slug and --issued-before go together');
  if (!isOneSelector(o)) throw new UsageError('give exactly one of --key-id, --jti, or --slug with --issued-before');
  return selectorOf(o);
}

/** One line naming a selector: `keyId=…`, `jti=…` or `slug=… issuedBefore=<seconds> (<ISO>)`. */
export function describeSelector(s: RevocationSelector): string {
  if ('keyId' in s) return `keyId=${s.keyId}`;
  if ('jti' in s) return `jti=${s.jti}`;
  return `slug=${s.slug} issuedBefore=${s.issuedBefore} (${isoOfSeconds(s.issuedBefore)})`;
}

export function revocationTable(entries: RevocationEntry[]): string {
  const rows = [
    ['SELECTOR', 'VALUE', 'ISSUED BEFORE', 'AT', 'BY'],
    ...entries.map((e) => {
      if ('keyId' in e) return ['keyId', e.keyId, '', e.at, e.by];
      if ('jti' in e) return ['jti', e.jti, '', e.at, e.by];
      return ['slug', e.slug, isoOfSeconds(e.issuedBefore), e.at, e.by];
    }),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

function isoOfSeconds(seconds: number): string {
  const ms = seconds * 1000;
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(seconds);
}
