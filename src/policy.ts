/**
 * Access rules (docs/protocol.md §4) as pure functions: no I/O, no clock.
 * A secret the caller cannot see does not exist for it (404); a visible one
 * it lacks the right for is 403.
 */
import { ForbiddenError, NotFoundError, type ChangeOp, type SecretSvcError } from '@secret-svc/protocol';

export interface Principal {
  slug: string;
  admin: boolean;
}

export interface Acl {
  readers: string[];
  writers: string[];
  deleters: string[];
}

export type Right = 'read' | 'update' | 'delete';

const LIST_OF: Record<Right, keyof Acl> = { read: 'readers', update: 'writers', delete: 'deleters' };

export function isVisible(who: Principal, acl: Acl): boolean {
  return who.admin || acl.readers.includes(who.slug) || acl.writers.includes(who.slug) || acl.deleters.includes(who.slug);
}

/** null when allowed; otherwise the error to answer. `acl` undefined = no such secret. */
export function checkAccess(who: Principal, key: string, acl: Acl | undefined, right: Right): SecretSvcError | null {
  if (!acl || !isVisible(who, acl)) return new NotFoundError(`secret "${key}" not found`);
  if (who.admin || acl[LIST_OF[right]].includes(who.slug)) return null;
  return new ForbiddenError(`"${who.slug}" may not ${right} "${key}"`);
}

/** A non-administrator creates only under its own prefix: "slug/..." with at least two segments. */
export function checkCreate(who: Principal, key: string): SecretSvcError | null {
  if (who.admin || key.startsWith(`${who.slug}/`)) return null;
  return new ForbiddenError(`"${who.slug}" may only create keys under "${who.slug}/"`);
}

/** Dedupes and sorts a list, so equal sets have one stored form. */
export function normalizeList(list: readonly string[]): string[] {
  return [...new Set(list)].sort();
}

/** The lists of a new secret: omitted ones default to [caller] (non-admin) or [] (admin). */
export function initialAcl(who: Principal, given: Partial<Acl>): Acl {
  const fallback = who.admin ? [] : [who.slug];
  return {
    readers: normalizeList(given.readers ?? fallback),
    writers: normalizeList(given.writers ?? fallback),
    deleters: normalizeList(given.deleters ?? fallback),
  };
}

/** An update replaces exactly the lists it gives. */
export function updatedAcl(current: Acl, given: Partial<Acl>): Acl {
  return {
    readers: given.readers ? normalizeList(given.readers) : current.readers,
    writers: given.writers ? normalizeList(given.writers) : current.writers,
    deleters: given.deleters ? normalizeList(given.deleters) : current.deleters,
  };
}

/** Everyone who can see a secret: the slugs whose visibility index lists it. */
export function audience(acl: Acl): string[] {
  return normalizeList([...acl.readers, ...acl.writers, ...acl.deleters]);
}

/** A committed change as watches see it: its op and the readers before and after (undefined: no secret). */
export interface ChangeReaders {
  op: ChangeOp;
  readersBefore: readonly string[] | undefined;
  readersAfter: readonly string[] | undefined;
}

/**
 * What a change is to a watcher (docs/protocol.md §14): null when it could read the secret
 * neither before nor after (never reported); 'delete' when it could read it before and
 * cannot after; otherwise the change's own op. An administrator reads every secret.
 */
export function changeSeenBy(who: Principal, change: ChangeReaders): ChangeOp | null {
  const before = change.readersBefore !== undefined && (who.admin || change.readersBefore.includes(who.slug));
  const after = change.readersAfter !== undefined && (who.admin || change.readersAfter.includes(who.slug));
  if (!before && !after) return null;
  return before && !after ? 'delete' : change.op;
}
