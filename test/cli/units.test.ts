/** Pure pieces of the CLI: dotenv text, durations, the exit-code map. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError, UnavailableError, BadRequestError, InternalError } from '@secret-svc/protocol';
import { formatDotenvLine, parseDotenv } from '../../src/cli/lib/dotenv.js';
import { parseDuration } from '../../src/cli/lib/duration.js';
import { exitCodeFor, UsageError } from '../../src/cli/lib/exit-codes.js';

describe('dotenv', () => {
  const values = ['plain', '', 'with space', "it's", 'a "quote"', 'multi\nline\r\n', '$HOME `id` \\n', 'tab\there # not a comment'];
  it('round-trips any value through format and parse', () => {
    const text = values.map((v, i) => formatDotenvLine(`K${i}`, v)).join('\n');
    expect(parseDotenv(text).map((e) => e.value)).toEqual(values);
  });
  it('never leaves $ or backticks live inside double quotes (safe to source)', () => {
    expect(formatDotenvLine('A', "it's $HOME")).toBe('A="it\'s \\$HOME"');
    expect(formatDotenvLine('B', '$(id)')).toBe("B='$(id)'");
  });
  it('reads common dotenv syntax', () => {
    expect(parseDotenv('# c\nexport A=1\nB = two # note\nC="x\\ny"\nD=\'lit\\n\'\n\nE=')).toEqual([
      { name: 'A', value: '1' }, { name: 'B', value: 'two' }, { name: 'C', value: 'x\ny' }, { name: 'D', value: 'lit\\n' }, { name: 'E', value: '' },
    ]);
  });
  it('rejects malformed lines as usage errors naming the line', () => {
    expect(() => parseDotenv('A=1\nnot a pair\n')).toThrow(/line 2/);
    expect(() => parseDotenv('A="open\n')).toThrow(UsageError);
  });
});

describe('durations', () => {
  it('parses units', () => {
    expect([parseDuration('90'), parseDuration('90s'), parseDuration('45m'), parseDuration('12h'), parseDuration('30d'), parseDuration('2w')])
      .toEqual([90, 90, 2700, 43_200, 2_592_000, 1_209_600]);
  });
  it('rejects the rest', () => {
    for (const bad of ['', '0', '-1d', '1y', '1.5h', 'd']) expect(() => parseDuration(bad), bad).toThrow(UsageError);
  });
});

describe('exit codes', () => {
  it('are distinct per protocol status', () => {
    expect([
      exitCodeFor(new NotFoundError('x')), exitCodeFor(new ForbiddenError('x')), exitCodeFor(new UnauthenticatedError('x')),
      exitCodeFor(new ConflictError('x')), exitCodeFor(new UnavailableError('x')), exitCodeFor(new BadRequestError('x')),
      exitCodeFor(new UsageError('x')), exitCodeFor(new InternalError('x')), exitCodeFor(new Error('x')),
    ]).toEqual([3, 4, 5, 6, 7, 2, 2, 1, 1]);
  });
});

describe('version', () => {
  it('is the package version, for the CLI and the micro service', async () => {
    const { VERSION } = await import('../../src/version.js');
    const { VERSION: SERVICE_VERSION } = await import('../../src/version.js');
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
    expect(SERVICE_VERSION).toBe(pkg.version);
  });
});

describe('list flags', () => {
  it('keep only the lists given; --no-<list>s gives an empty list; both at once is a usage error', async () => {
    const { listsFrom } = await import('../../src/cli/lib/access-list-flags.js');
    expect(listsFrom({})).toEqual({});
    expect(listsFrom({ reader: ['a', 'b'], readers: true, writers: true, deleters: true })).toEqual({ readers: ['a', 'b'] });
    expect(listsFrom({ readers: false, writer: ['w'], deleters: false })).toEqual({ readers: [], writers: ['w'], deleters: [] });
    expect(() => listsFrom({ reader: ['a'], readers: false })).toThrow(UsageError);
  });
});
