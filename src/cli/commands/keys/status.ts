/** `keys status`: stored values per key id (docs/protocol.md §13), ring keys first in ring order. */
import type { SecretStore } from '../../../store/secret-store.js';

export interface KeyStatus {
  id: string;
  inRing: boolean;
  values: number;
}

export async function keyStatus(store: SecretStore): Promise<KeyStatus[]> {
  const counts = await store.keyring.countByKeyId();
  const ring = store.keyIds;
  const others = [...counts.keys()].filter((id) => !ring.includes(id)).sort();
  return [
    ...ring.map((id) => ({ id, inRing: true, values: counts.get(id) ?? 0 })),
    ...others.map((id) => ({ id, inRing: false, values: counts.get(id)! })),
  ];
}

/** The table, then one line saying which ring keys can be dropped (or what to do first). */
export function statusText(rows: KeyStatus[]): string {
  const role = (r: KeyStatus, i: number) => (!r.inRing ? 'not in ring' : i === 0 ? '1 (seals)' : String(i + 1));
  const note = (r: KeyStatus, i: number) => {
    if (!r.inRing) return 'cannot be opened by this ring';
    if (i === 0) return '';
    return r.values === 0 ? 'can be dropped' : 'still needed: run `secret-svc keys rewrap`';
  };
  const table = [['KEY ID', 'RING', 'VALUES', ''], ...rows.map((r, i) => [r.id, role(r, i), String(r.values), note(r, i)])];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const lines = table.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd());
  const droppable = rows.slice(1).filter((r) => r.inRing && r.values === 0).map((r) => r.id);
  const strangers = rows.filter((r) => !r.inRing && r.values > 0);
  const pending = rows.slice(1).filter((r) => r.inRing && r.values > 0).reduce((n, r) => n + r.values, 0);
  if (strangers.length > 0) {
    lines.push(`${strangers.reduce((n, r) => n + r.values, 0)} values are sealed by keys not in this ring (${strangers.map((r) => r.id).join(', ')}): ` +
      'this ring cannot open them; add those keys to the ring (or check SECRET_SVC_REDIS_PREFIX).');
  }
  if (pending > 0) lines.push(`${pending} values are not under the first key ${rows[0]!.id}: run \`secret-svc keys rewrap\`.`);
  else if (strangers.length === 0 && droppable.length > 0) {
    lines.push(`Every value is under the first key ${rows[0]!.id}: ${droppable.join(', ')} can be dropped from the ring ` +
      'once every worker seals with the first key.');
  } else if (strangers.length === 0) lines.push(`Every value is under the first key ${rows[0]!.id}.`);
  return `${lines.join('\n')}\n`;
}
