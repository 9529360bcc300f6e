/**
 * A walk over JSON text that JSON.parse has already accepted, for what JSON.parse lets
 * through: a key given twice (JSON.parse keeps the last, so two readers can disagree), the
 * key "__proto__" (copied by assignment it replaces an object's prototype), and an escaped
 * lone surrogate ("\ud800", which no UTF-8 text can carry and which later turns into U+FFFD).
 * Strings are skipped with indexOf, so a large value costs little more than JSON.parse.
 */

/** Returns why the text is unacceptable, or null. The text must be valid JSON. */
export function checkJsonText(text: string): string | null {
  if (!isWellFormed(text)) return 'text holds a lone surrogate';
  // One entry per open container: the keys seen so far for an object, null for an array.
  const open: (Set<string> | null)[] = [];
  let expectKey = false;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end < 0) return 'a string holds a lone surrogate';
      if (expectKey) {
        const raw = text.slice(i + 1, end - 1);
        const key = raw.includes('\\') ? (JSON.parse(text.slice(i, end)) as string) : raw;
        const keys = open[open.length - 1]!;
        if (key === '__proto__') return 'the key "__proto__" is not allowed';
        if (keys.has(key)) return 'an object has a duplicate key';
        keys.add(key);
        expectKey = false;
      }
      i = end;
      continue;
    }
    if (c === OPEN_BRACE) {
      open.push(new Set());
      expectKey = true;
    } else if (c === OPEN_BRACKET) {
      open.push(null);
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      open.pop();
      expectKey = false;
    } else if (c === COMMA) {
      expectKey = open[open.length - 1] instanceof Set;
    }
    i++;
  }
  return null;
}

/** The index after the string opening at `start`, or -1 when it escapes a lone surrogate. */
function stringEnd(text: string, start: number): number {
  let pos = start + 1;
  let backslash = text.indexOf('\\', pos);
  for (;;) {
    const quote = text.indexOf('"', pos); // valid JSON: the string is closed
    if (backslash < 0 || backslash > quote) return quote + 1;
    pos = backslash + 2; // past the escaped character
    if (text.charCodeAt(backslash + 1) === LOWER_U) {
      const unit = hex4(text, pos);
      pos += 4;
      if (unit >= 0xdc00 && unit <= 0xdfff) return -1;
      if (unit >= 0xd800 && unit <= 0xdbff) {
        // A high surrogate must be followed at once by an escaped low one (a raw one would
        // make the text itself ill-formed, refused above).
        const low = text.charCodeAt(pos) === BACKSLASH && text.charCodeAt(pos + 1) === LOWER_U ? hex4(text, pos + 2) : -1;
        if (low < 0xdc00 || low > 0xdfff) return -1;
        pos += 6;
      }
    }
    backslash = text.indexOf('\\', pos);
  }
}

function hex4(text: string, at: number): number {
  return parseInt(text.slice(at, at + 4), 16);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LOWER_U = 0x75;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

// String.prototype.isWellFormed is in Node 20 but not in the ES2023 lib this project targets.
declare global {
  interface String {
    isWellFormed(): boolean;
  }
}

function isWellFormed(s: string): boolean {
  return s.isWellFormed();
}
