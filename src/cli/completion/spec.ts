/**
 * The command tree as completion needs it, read from the commander program itself: so every
 * command, subcommand and option completes, new ones included, with nothing listed twice.
 *
 * What a value completes to:
 *   - words: `.choices()` or completeWith() (formats, shells, signals, ops…);
 *   - keys: secret key names from `ls`, for arguments named key / keys / prefix and the
 *     options --key <key> and --prefix <prefix>;
 *   - files: arguments and option values named file / path / dir;
 *   - command: the first word of `run`'s command;
 *   - none: anything else (a URL, a number, a slug).
 */
import type { Argument, Command, Option } from 'commander';
import { completionWordsOf } from './words.js';

export type ValueSpec = { words: readonly string[] } | 'keys' | 'files' | 'command' | 'none';

export interface FlagSpec {
  names: string[];
  description: string;
  /** Set when the flag takes a value. */
  value?: ValueSpec;
}

export interface NodeSpec {
  /** The words naming this command after the program's name ([] for the program). */
  path: string[];
  summary: string;
  subcommands: string[];
  flags: FlagSpec[];
  /** One per positional argument; a variadic last one repeats. */
  args: ValueSpec[];
  variadic: boolean;
}

const KEY_NAMES = new Set(['key', 'keys', 'prefix']);
const FILE_NAMES = new Set(['file', 'path', 'dir']);

function valueName(option: Option): string {
  return /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1]?.replace(/\.\.\.$/, '') ?? '';
}

function optionValue(option: Option): ValueSpec {
  const words = completionWordsOf(option);
  if (words) return { words };
  const name = valueName(option);
  if (FILE_NAMES.has(name)) return 'files';
  if ((option.long === '--key' || option.long === '--prefix') && KEY_NAMES.has(name)) return 'keys';
  return 'none';
}

function argumentValue(arg: Argument): ValueSpec {
  const words = completionWordsOf(arg);
  if (words) return { words };
  const name = arg.name();
  if (KEY_NAMES.has(name)) return 'keys';
  if (FILE_NAMES.has(name)) return 'files';
  if (name === 'command') return 'command';
  return 'none';
}

const visible = (cmd: Command) => !(cmd as unknown as { _hidden?: boolean })._hidden;

/** Every visible command, the program first, parents before their subcommands. */
export function commandSpecs(program: Command): NodeSpec[] {
  const specs: NodeSpec[] = [];
  const walk = (cmd: Command, path: string[]) => {
    const subs = cmd.commands.filter(visible);
    const args = cmd.registeredArguments;
    specs.push({
      path,
      summary: cmd.summary() || cmd.description(),
      subcommands: subs.map((c) => c.name()),
      flags: [
        { names: ['--help', '-h'], description: 'show help' },
        ...(cmd.options as Option[]).filter((o) => !o.hidden).map((o) => ({
          names: [o.long, o.short].filter((n): n is string => Boolean(n)),
          description: o.description,
          ...(o.required || o.optional ? { value: optionValue(o) } : {}),
        })),
      ],
      args: args.map(argumentValue),
      variadic: args.length > 0 && args[args.length - 1]!.variadic,
    });
    for (const sub of subs) walk(sub, [...path, sub.name()]);
  };
  walk(program, []);
  return specs;
}
