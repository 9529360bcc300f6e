/** The one naming rule of `run` and `export` (src/cli/lib/env-names.ts), as a table. */
import { describe, expect, it } from 'vitest';
import { namingRule, variableName, variableNames, type NamingFlags } from '../../src/cli/lib/env-names.js';
import { UsageError } from '../../src/cli/lib/exit-codes.js';

describe('variable names', () => {
  const cases: Array<[string, NamingFlags, string | undefined, string]> = [
    // key, flags, the command's prefix, name
    ['demo/DB_URL', {}, undefined, 'demo_DB_URL'],
    ['demo/DB_URL', {}, 'demo/', 'demo_DB_URL'],
    ['demo/DB_URL', { stripPrefix: true }, 'demo/', 'DB_URL'],
    ['demo/DB_URL', { map: ['demo/='] }, undefined, 'DB_URL'],
    ['demo/DB_URL', { map: ['demo/=APP_'] }, undefined, 'APP_DB_URL'],
    ['demo/sub/X', { map: ['demo/=A_', 'demo/sub/=B_'] }, undefined, 'B_X'], // the longest prefix wins
    ['demo/sub/X', { map: ['demo/sub/=B_', 'demo/=A_'] }, undefined, 'B_X'], // whatever the order given
    ['other/X', { map: ['demo/='] }, undefined, 'other_X'], // no match: the whole key
    ['demo/api.key', { stripPrefix: true }, 'demo/', 'api_key'],
    ['demo/9lives', { stripPrefix: true }, 'demo/', '_9lives'],
    ['demo/', { stripPrefix: true }, 'demo', '_'],
    ['a-b/c.d', {}, undefined, 'a_b_c_d'],
    ['Mixed/Case', {}, undefined, 'Mixed_Case'],
  ];
  it.each(cases)('%s with %o (prefix %s) -> %s', (key, flags, prefix, name) => {
    expect(variableName(key, namingRule(flags, prefix))).toBe(name);
  });

  it('two keys giving one name are an error naming both', () => {
    expect(() => variableNames(['p/a.b', 'p/a_b'], namingRule({ stripPrefix: true }, 'p/'))).toThrow(/p\/a.b and p\/a_b would both be the variable a_b/);
    expect(variableNames(['p/a', 'q/a'], namingRule({ map: ['p/=P_', 'q/=Q_'] }, undefined))).toEqual(new Map([['p/a', 'P_a'], ['q/a', 'Q_a']]));
  });

  it.each<[NamingFlags, string | undefined, RegExp]>([
    [{ stripPrefix: true }, undefined, /--strip-prefix needs a prefix/],
    [{ stripPrefix: true }, '', /--strip-prefix needs a prefix/],
    [{ map: ['demo/'] }, undefined, /--map demo\/: give PREFIX=NAME/],
    [{ map: ['=X'] }, undefined, /give PREFIX=NAME/],
    [{ map: ['demo/=A', 'demo/=B'] }, undefined, /mapped twice/],
    [{ map: ['demo/=A'], stripPrefix: true }, 'demo/', /mapped twice/],
  ])('%o (prefix %s) is a usage error', (flags, prefix, message) => {
    expect(() => namingRule(flags, prefix)).toThrow(UsageError);
    expect(() => namingRule(flags, prefix)).toThrow(message);
  });
});
