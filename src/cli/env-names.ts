/**
 * Secret keys as environment variable names, for `run` and the dotenv/shell exports.
 *
 * The rule (documented in `run --help`): take the key (without PREFIX with --strip-prefix);
 * every character other than A-Z, a-z, 0-9 and _ becomes _; a name starting with a digit gets
 * a leading _. Case is kept. Two keys giving the same name are an error naming both.
 */
import { UsageError } from './exit.js';

export const ENV_NAME_RULE = 'characters other than A-Z a-z 0-9 _ become _, a leading digit gets a _ in front, case is kept';

const VALID = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isEnvName(name: string): boolean {
  return VALID.test(name);
}

export function envNameFor(name: string): string {
  const replaced = name.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(replaced) || replaced === '' ? `_${replaced}` : replaced;
}

/**
 * Throws UsageError, naming the key, when the value cannot be a variable's: the environment
 * (and so every variable-style export and `run`) ends a value at a NUL byte, which would
 * hand on a shorter value than the one stored.
 */
export function checkEnvValue(key: string, value: string): void {
  if (value.includes('\0')) throw new UsageError(`${key}: the value has a NUL byte, which no environment variable can hold (use --format json)`);
}

/** key → variable name for every key; throws UsageError on a clash. */
export function envNames(keys: string[], strip: string): Map<string, string> {
  const byName = new Map<string, string>();
  const names = new Map<string, string>();
  for (const key of keys) {
    const name = envNameFor(key.startsWith(strip) ? key.slice(strip.length) : key);
    const other = byName.get(name);
    if (other !== undefined) throw new UsageError(`${other} and ${key} would both be the variable ${name}; pick keys with --key or a narrower --prefix`);
    byName.set(name, key);
    names.set(key, name);
  }
  return names;
}
