/** Repeatable --reader/--writer/--deleter options shared by create, update and import. */
import { InvalidArgumentError, type Command } from 'commander';
import { UsageError } from './exit.js';

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function addListOptions(cmd: Command): Command {
  return cmd
    .option('--reader <slug>', 'a slug allowed to read (repeatable)', collect)
    .option('--writer <slug>', 'a slug allowed to update (repeatable)', collect)
    .option('--deleter <slug>', 'a slug allowed to delete (repeatable)', collect)
    .option('--no-readers', 'an empty readers list (only administrators may read)')
    .option('--no-writers', 'an empty writers list')
    .option('--no-deleters', 'an empty deleters list');
}

export interface ListFlags {
  reader?: string[];
  writer?: string[];
  deleter?: string[];
  /** false with --no-readers (commander's negated option), else true/undefined. */
  readers?: boolean;
  writers?: boolean;
  deleters?: boolean;
}

/** Only the lists given on the command line (an omitted list keeps its default or current value). */
export function listsFrom(o: ListFlags): { readers?: string[]; writers?: string[]; deleters?: string[] } {
  const one = (name: 'reader' | 'writer' | 'deleter', given: string[] | undefined, empty: boolean | undefined) => {
    if (empty === false && given) throw new UsageError(`--${name} and --no-${name}s contradict each other`);
    return empty === false ? [] : given;
  };
  const readers = one('reader', o.reader, o.readers);
  const writers = one('writer', o.writer, o.writers);
  const deleters = one('deleter', o.deleter, o.deleters);
  return { ...(readers ? { readers } : {}), ...(writers ? { writers } : {}), ...(deleters ? { deleters } : {}) };
}

export function parseVersion(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}
