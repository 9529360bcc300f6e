/**
 * A walk over JSON text that JSON.parse has already accepted, for what JSON.parse lets
 * through: a key given twice (JSON.parse keeps the last, so two readers can disagree), the
 * key "__proto__" (copied by assignment it replaces an object's prototype), and an escaped
 * lone surrogate ("\ud800", which no UTF-8 text can carry and which later turns into U+FFFD).
 */

/** Returns why the text is unacceptable, or null. The text must be valid JSON. */
export function checkJsonText(text: string): string | null {
  if (!isWellFormed(text)) return 'text holds a lone surrogate';
  // One entry per open container: the keys seen so far for an object, null for an array.
  const open: (Set<string> | null)[] = [];
  let expectKey = false;
  const specials = /["\\]/g;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let escaped = false;
      specials.lastIndex = i + 1;
      let end = -1;
      while (end < 0) {
        const m = specials.exec(text)!; // valid JSON: every string is closed
        if (m[0] === '"') end = m.index + 1;
        else {
          escaped = true;
          specials.lastIndex = m.index + 2; // skip the escaped character
        }
      }
      if (escaped || expectKey) {
        const value = escaped ? (JSON.parse(text.slice(i, end)) as string) : text.slice(i + 1, end - 1);
        if (escaped && !isWellFormed(value)) return 'a string holds a lone surrogate';
        if (expectKey) {
          const keys = open[open.length - 1]!;
          if (value === '__proto__') return 'the key "__proto__" is not allowed';
          if (keys.has(value)) return 'an object has a duplicate key';
          keys.add(value);
          expectKey = false;
        }
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

const QUOTE = 0x22;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

// String.prototype.isWellFormed is in Node 20 but not in the ES2023 lib this project targets.
function isWellFormed(s: string): boolean {
  return (s as unknown as { isWellFormed(): boolean }).isWellFormed();
}
