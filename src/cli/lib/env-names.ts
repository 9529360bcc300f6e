/**
 * The one rule that turns secret keys into environment variable names, for `run` and for
 * `export --format dotenv|shell|env-file` alike (NAMING_HELP is its documentation):
 *
 *   1. `--map PREFIX=NAME` (repeatable): a key starting with PREFIX is named NAME followed by
 *      the rest of the key; the longest matching PREFIX wins. `--strip-prefix` is
 *      `--map P=` for the command's own prefix P (`run --prefix P`, `export P`).
 *   2. Then every character other than A-Z, a-z, 0-9 and _ becomes _, and a name starting
 *      with a digit (or an empty one) gets a leading _. Case is kept.
 *   3. Two keys giving one name are an error naming both.
 */
import type { Command } from 'commander';
import { UsageError } from './exit-codes.js';
import { collect } from './access-list-flags.js';

export const NAMING_HELP = 'Variable names: the key, with --map PREFIX=NAME putting NAME in place of a leading PREFIX ' +
  '(repeatable, the longest match wins; --strip-prefix maps the command\'s PREFIX to nothing); then characters other ' +
  'than A-Z a-z 0-9 _ become _ and a leading digit gets a _ in front, case kept (demo/DB_URL -> demo_DB_URL; with ' +
  '--strip-prefix under demo/, or --map demo/=, -> DB_URL; with --map demo/=APP_ -> APP_DB_URL). Two keys giving one ' +
  'name are an error.';

export interface NamingFlags {
  stripPrefix?: boolean;
  map?: string[];
}

/** The naming flags, the same on every command that makes variables. */
export function addNamingOptions(cmd: Command): Command {
  return cmd
    .option('--strip-prefix', 'drop PREFIX from the variable names (demo/DB_URL -> DB_URL)')
    .option('--map <prefix=name>', 'name keys under PREFIX NAME + the rest (repeatable; --map demo/=APP_: demo/DB_URL -> APP_DB_URL)', collect);
}

/** Key prefixes and what replaces them, longest prefix first. */
export type NamingRule = ReadonlyArray<{ prefix: string; name: string }>;

/** The rule the flags give; `prefix` is the command's own prefix (what --strip-prefix strips), if any. */
export function namingRule(o: NamingFlags, prefix: string | undefined): NamingRule {
  const rule = (o.map ?? []).map((m) => {
    const eq = m.indexOf('=');
    if (eq <= 0) throw new UsageError(`--map ${m}: give PREFIX=NAME (NAME may be empty), e.g. --map demo/=APP_`);
    return { prefix: m.slice(0, eq), name: m.slice(eq + 1) };
  });
  if (o.stripPrefix) {
    if (!prefix) throw new UsageError('--strip-prefix needs a prefix to strip (or use --map PREFIX=)');
    rule.push({ prefix, name: '' });
  }
  const twice = rule.find((r, i) => rule.findIndex((s) => s.prefix === r.prefix) !== i);
  if (twice) throw new UsageError(`the prefix ${twice.prefix} is mapped twice (--map, --strip-prefix)`);
  return rule.sort((a, b) => b.prefix.length - a.prefix.length);
}

const VALID = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isEnvName(name: string): boolean {
  return VALID.test(name);
}

/** The variable name of one key under `rule`. */
export function variableName(key: string, rule: NamingRule = []): string {
  const mapped = rule.find((r) => key.startsWith(r.prefix));
  const raw = mapped ? mapped.name + key.slice(mapped.prefix.length) : key;
  const replaced = raw.replace(/[^A-Za-z0-9_]/g, '_');
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

/** key → variable name for every key; throws UsageError on a clash, naming both keys. */
export function variableNames(keys: readonly string[], rule: NamingRule = []): Map<string, string> {
  const byName = new Map<string, string>();
  const names = new Map<string, string>();
  for (const key of keys) {
    const name = variableName(key, rule);
    const other = byName.get(name);
    if (other !== undefined) throw new UsageError(`${other} and ${key} would both be the variable ${name}; pick other keys or --map them apart`);
    byName.set(name, key);
    names.set(key, name);
  }
  return names;
}
