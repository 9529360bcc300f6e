/**
 * dotenv text for import/export, and the other export formats.
 *
 * - dotenv: `NAME=value`; plain words bare, otherwise single quotes, and double quotes (with
 *   \\, ", $ and ` escaped and newlines kept as they are) for values holding a single quote.
 *   `set -a; . file` in sh/bash gives the exact bytes back, multi-line values included.
 * - shell: `export NAME='value'` (a ' written as '\''): exact in any POSIX shell, multi-line too.
 * - env-file: `NAME=value` with the value raw, as `docker run --env-file` reads it (no quoting
 *   there, so one line per value: a value with a newline is refused, naming its key).
 * Names must be valid variable names in all three, and values hold no NUL byte (no variable
 * can); either is an error naming the key. JSON holds any value.
 */
import { UsageError } from './exit-codes.js';
import { checkEnvValue, isEnvName } from './env-names.js';

const NAME_RE = /^[A-Za-z0-9_.\-/]+$/;
const BARE_RE = /^[A-Za-z0-9_.\-/:@+,%]*$/;

export const EXPORT_FORMATS = ['json', 'dotenv', 'shell', 'env-file'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export function formatDotenvLine(name: string, value: string): string {
  if (BARE_RE.test(value)) return `${name}=${value}`;
  if (!value.includes("'")) return `${name}='${value}'`;
  return `${name}="${value.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
}

export function formatShellLine(name: string, value: string): string {
  return `export ${name}='${value.replace(/'/g, `'\\''`)}'`;
}

export function formatEnvFileLine(name: string, value: string, key: string): string {
  if (/[\n\r]/.test(value)) throw new UsageError(`${key}: the value has a line break, which --format env-file cannot hold (use dotenv, shell or json)`);
  return `${name}=${value}`;
}

/** The lines of one variable-style format; `name` must already be a valid variable name. */
export function formatVariables(format: Exclude<ExportFormat, 'json'>, entries: Array<{ key: string; name: string; value: string }>): string {
  const lines = entries.map(({ key, name, value }) => {
    if (!isEnvName(name)) {
      throw new UsageError(`${key}: "${name}" is not a valid variable name (letters, digits, _; not starting with a digit); ` +
        'use --strip-prefix with a prefix, or --format json');
    }
    checkEnvValue(key, value);
    if (format === 'env-file') return formatEnvFileLine(name, value, key);
    return format === 'shell' ? formatShellLine(name, value) : formatDotenvLine(name, value);
  });
  return lines.length ? `${lines.join('\n')}\n` : '';
}

const UNESCAPE: Record<string, string> = { n: '\n', r: '\r', t: '\t' };

/** Parses `NAME=value` lines (optional `export `, # comments, '…' literal, "…" with escapes). */
export function parseDotenv(text: string): Array<{ name: string; value: string }> {
  const entries: Array<{ name: string; value: string }> = [];
  let i = 0;
  let line = 1;
  const fail = (why: string): never => { throw new UsageError(`dotenv line ${line}: ${why}`); };
  while (i < text.length) {
    const end = text.indexOf('\n', i) === -1 ? text.length : text.indexOf('\n', i);
    const raw = text.slice(i, end).replace(/\r$/, '');
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      i = end + 1; line++;
      continue;
    }
    const m = /^\s*(?:export\s+)?([^=\s]+)\s*=\s*/.exec(raw);
    if (!m) fail('expected NAME=value');
    const name = m![1]!;
    // The text is not quoted: a mis-quoted multi-line value puts secret material where a name should be.
    if (!NAME_RE.test(name)) fail('invalid name (quote multi-line values)');
    let j = i + m![0].length;
    const q = text[j];
    let value = '';
    if (q === "'") {
      const close = text.indexOf("'", j + 1);
      if (close === -1) fail('unterminated single quote');
      for (let k = j; k < close; k++) if (text[k] === '\n') line++;
      value = text.slice(j + 1, close);
      j = close + 1;
    } else if (q === '"') {
      j++;
      for (;;) {
        if (j >= text.length) fail('unterminated double quote');
        const c = text[j]!;
        if (c === '"') { j++; break; }
        if (c === '\n') line++;
        if (c === '\\' && j + 1 < text.length) {
          const n = text[j + 1]!;
          value += UNESCAPE[n] ?? n;
          j += 2;
          continue;
        }
        value += c;
        j++;
      }
    } else {
      value = raw.slice(m![0].length).replace(/\s+#.*$/, '').trim();
      j = end;
    }
    const rest = text.slice(j, text.indexOf('\n', j) === -1 ? text.length : text.indexOf('\n', j)).trim();
    if (rest !== '' && !rest.startsWith('#')) fail('unexpected text after the value');
    entries.push({ name, value });
    const next = text.indexOf('\n', j);
    i = next === -1 ? text.length : next + 1;
    line++;
  }
  return entries;
}
