/**
 * The revocations a worker holds in memory, checked on every request without I/O: three
 * indexes (key, jti, slug → latest cutoff), so a check is a few map lookups.
 */
import {
  isJtiSelector, isKeyIdSelector, isSlugSelector, issuedBeforeCutoff, keyBytesId,
  type RevocationEntry, type RevocationSubject,
} from './selector.js';

export class RevocationSet {
  /**
   * Key texts that decode to a key. fromBase64url accepts one spelling per byte string, so
   * equal texts here are equal bytes, and a check needs no decoding.
   */
  private keyIds = new Set<string>();
  private jtis = new Set<string>();
  /** Per slug the largest issuedBefore: iat below any cutoff is below the largest one. */
  private slugCutoffs = new Map<string, number>();
  private list: readonly RevocationEntry[] = [];
  private rev = -1;

  /** The store revision these entries were read at (-1 before the first load). */
  get revision(): number {
    return this.rev;
  }

  get size(): number {
    return this.list.length;
  }

  /** The entries as loaded, in the store's order. */
  entries(): readonly RevocationEntry[] {
    return this.list;
  }

  /** Swaps in a complete new set at once (requests never see half of one). */
  replace(entries: readonly RevocationEntry[], revision: number): void {
    const keyIds = new Set<string>();
    const jtis = new Set<string>();
    const slugCutoffs = new Map<string, number>();
    for (const e of entries) {
      if (isKeyIdSelector(e)) {
        if (keyBytesId(e.keyId) !== undefined) keyIds.add(e.keyId);
      } else if (isJtiSelector(e)) {
        jtis.add(e.jti);
      } else if (isSlugSelector(e)) {
        slugCutoffs.set(e.slug, Math.max(e.issuedBefore, slugCutoffs.get(e.slug) ?? -Infinity));
      }
    }
    this.keyIds = keyIds;
    this.jtis = jtis;
    this.slugCutoffs = slugCutoffs;
    this.list = Object.freeze([...entries]);
    this.rev = revision;
  }

  isRevoked(subject: RevocationSubject): boolean {
    const cutoff = this.slugCutoffs.get(subject.slug);
    if (cutoff !== undefined && issuedBeforeCutoff(subject.issuedAtMs, cutoff)) return true;
    if (subject.jti != null && this.jtis.has(subject.jti)) return true;
    return this.keyIds.has(subject.keyId);
  }
}
