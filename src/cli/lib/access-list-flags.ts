/** Repeatable --reader/--writer/--deleter options (create, update, import) and --add-/--remove- ones (update). */
import { InvalidArgumentError, type Command } from 'commander';
import type { SecretMetadata } from '@secret-svc/protocol';
import { UsageError } from './exit-codes.js';
import { versionNumber } from './version-number.js';

/** Commander's accumulator for a repeatable option. */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];
const LISTS = [['reader', 'readers'], ['writer', 'writers'], ['deleter', 'deleters']] as const;

export function addListOptions(cmd: Command): Command {
  return cmd
    .option('--reader <slug>', 'a slug allowed to read (repeatable)', collect)
    .option('--writer <slug>', 'a slug allowed to update (repeatable)', collect)
    .option('--deleter <slug>', 'a slug allowed to delete (repeatable)', collect)
    .option('--no-readers', 'an empty readers list (only administrators may read)')
    .option('--no-writers', 'an empty writers list')
    .option('--no-deleters', 'an empty deleters list');
}

export function addListEditOptions(cmd: Command): Command {
  for (const [one] of LISTS) {
    cmd.option(`--add-${one} <slug>`, `add a slug to the current ${one}s (repeatable)`, collect);
    cmd.option(`--remove-${one} <slug>`, `remove a slug from the current ${one}s (repeatable)`, collect);
  }
  return cmd;
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

export interface ListEditFlags {
  addReader?: string[];
  removeReader?: string[];
  addWriter?: string[];
  removeWriter?: string[];
  addDeleter?: string[];
  removeDeleter?: string[];
}

export type ListChanges = { readers?: string[]; writers?: string[]; deleters?: string[] };

/** Only the lists given on the command line (an omitted list keeps its default or current value). */
export function listsFrom(o: ListFlags): ListChanges {
  const one = (name: 'reader' | 'writer' | 'deleter', given: string[] | undefined, empty: boolean | undefined) => {
    if (empty === false && given) throw new UsageError(`--${name} and --no-${name}s contradict each other`);
    return empty === false ? [] : given;
  };
  const readers = one('reader', o.reader, o.readers);
  const writers = one('writer', o.writer, o.writers);
  const deleters = one('deleter', o.deleter, o.deleters);
  return { ...(readers ? { readers } : {}), ...(writers ? { writers } : {}), ...(deleters ? { deleters } : {}) };
}

const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);

export function hasListEdits(o: ListEditFlags): boolean {
  return LISTS.some(([one]) => (o[`add${cap(one)}` as keyof ListEditFlags]?.length ?? 0) + (o[`remove${cap(one)}` as keyof ListEditFlags]?.length ?? 0) > 0);
}

/** The new lists after the --add-… and --remove-… flags on `current`; a list also replaced outright is a usage error. */
export function editLists(current: SecretMetadata, o: ListEditFlags, replaced: ListChanges): ListChanges {
  const result: ListChanges = {};
  for (const [one, many] of LISTS) {
    const add = o[`add${cap(one)}` as keyof ListEditFlags] ?? [];
    const remove = o[`remove${cap(one)}` as keyof ListEditFlags] ?? [];
    if (!add.length && !remove.length) continue;
    if (replaced[many]) throw new UsageError(`--${one} (or --no-${many}) and --add-/--remove-${one} contradict each other`);
    const both = add.filter((s) => remove.includes(s));
    if (both.length) throw new UsageError(`${both.join(', ')}: both added to and removed from ${many}`);
    result[many] = [...new Set([...current[many].filter((s) => !remove.includes(s)), ...add])];
  }
  return result;
}

/** --if-version: the same rule as every version number on the command line (version-number.ts). */
export function parseVersion(text: string): number {
  try {
    return versionNumber(text, '--if-version');
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}
