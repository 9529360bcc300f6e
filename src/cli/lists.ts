/** Repeatable --reader/--writer/--deleter options shared by create, update and import. */
import { InvalidArgumentError, type Command } from 'commander';

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function addListOptions(cmd: Command): Command {
  return cmd
    .option('--reader <slug>', 'a slug allowed to read (repeatable)', collect)
    .option('--writer <slug>', 'a slug allowed to update (repeatable)', collect)
    .option('--deleter <slug>', 'a slug allowed to delete (repeatable)', collect);
}

export interface ListFlags {
  reader?: string[];
  writer?: string[];
  deleter?: string[];
}

/** Only the lists given on the command line (an omitted list keeps its default or current value). */
export function listsFrom(o: ListFlags): { readers?: string[]; writers?: string[]; deleters?: string[] } {
  return {
    ...(o.reader ? { readers: o.reader } : {}),
    ...(o.writer ? { writers: o.writer } : {}),
    ...(o.deleter ? { deleters: o.deleter } : {}),
  };
}

export function parseVersion(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}
