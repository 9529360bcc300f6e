/**
 * dotenv text for import/export. Export quotes so that the file is also safe to `source` from a
 * shell: plain words bare, otherwise single quotes, and double quotes (with \n, \", \\, \$ and \`
 * escaped) only for values holding a newline or a single quote.
 */
import { UsageError } from './exit.js';

const NAME_RE = /^[A-Za-z0-9_.\-/]+$/;
const BARE_RE = /^[A-Za-z0-9_.\-/:@+,%]*$/;

export function formatDotenvLine(name: string, value: string): string {
  if (BARE_RE.test(value)) return `${name}=${value}`;
  if (!/['\n\r]/.test(value)) return `${name}='${value}'`;
  const escaped = value.replace(/[\\"$`]/g, (c) => `\\${c}`).replace(/\n/g, '\\n').replace(/\r/g, '\\r');
  return `${name}="${escaped}"`;
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
    if (!NAME_RE.test(name)) fail(`invalid name "${name.slice(0, 64)}"`);
    let j = i + m![0].length;
    const q = text[j];
    let value = '';
    if (q === "'") {
      const close = text.indexOf("'", j + 1);
      if (close === -1 || close > end) fail('unterminated single quote');
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
