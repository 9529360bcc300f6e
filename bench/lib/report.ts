/** The results document, its table and the issue's targets. */
import type { RunResult } from './messages.js';

export interface Row extends RunResult {
  scenario: string;
  concurrency: number;
  /** req/s over the echo baseline's req/s at the same concurrency, same run. */
  ratioToEcho: number | null;
  /** For multi-key reads: secrets read per second. */
  keysPerSecond?: number;
}

export interface Target {
  name: string;
  goal: string;
  measured: string;
  met: boolean;
}

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

export function table(rows: Row[]): string {
  const head = ['scenario', 'in flight', 'req/s', 'x echo', 'p50 ms', 'p99 ms', 'max ms', 'errors', 'CPU us/req: svc redis nats load', 'note'];
  const body = rows.map((r) => [
    r.scenario, String(r.concurrency), fmt(r.rps, 0), r.ratioToEcho === null ? '-' : fmt(r.ratioToEcho, 3),
    fmt(r.p50, 3), fmt(r.p99, 3), fmt(r.max, 2), String(r.errors), cpuCell(r),
    [r.keysPerSecond !== undefined ? `${fmt(r.keysPerSecond, 0)} keys/s` : '', r.signedOnTheFly ? `${r.signedOnTheFly} signed live` : '',
      statusNote(r)].filter(Boolean).join('; '),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** CPU µs per request by role, as the table's columns show them: the responder (worker or echo), Redis, NATS, the load generator. */
export function cpuColumns(r: Pick<Row, 'cpuMicrosPerRequest'>): { svc: number; redis: number; nats: number; load: number } | undefined {
  const c = r.cpuMicrosPerRequest;
  if (!c) return undefined;
  const v = (k: string) => (c[k] ?? 0);
  return { svc: v('worker') + v('echo'), redis: v('redis-server'), nats: v('nats-server'), load: v('load generator') };
}

function cpuCell(r: Row): string {
  const c = cpuColumns(r);
  return c ? [c.svc, c.redis, c.nats, c.load].map((x) => x.toFixed(0)).join(' ') : '-';
}

function statusNote(r: Row): string {
  const entries = Object.entries(r.statuses);
  return entries.length ? `replies with error: ${entries.map(([s, n]) => `${s} x${n}`).join(', ')}` : '';
}

export function find(rows: Row[], scenario: string, concurrency: number): Row | undefined {
  return rows.find((r) => r.scenario === scenario && r.concurrency === concurrency);
}

/** The secure read measured on workers with SECRET_SVC_AUDIT=off (the other rows have it on). */
export const READ_AUDIT_OFF = 'read 1 key, audit off';
export const SESSION_READ = 'session read 1 key';
export const sessionReadMany = (n: number) => `session read ${n} keys`;

export function targets(rows: Row[], bytesPerSecret: number, readKeys: number): Target[] {
  const out: Target[] = [];
  // The hot path (bench/README.md): CPU per request at 64 in flight, audit on, in this run.
  const sread64 = find(rows, SESSION_READ, 64);
  const sreadOff64 = find(rows, `${SESSION_READ}, audit off`, 64);
  const sread1 = find(rows, SESSION_READ, 1);
  const smany64 = find(rows, sessionReadMany(readKeys), 64);
  const cpu = (r: Row | undefined, who: string) => r?.cpuMicrosPerRequest?.[who];
  const svc = cpu(sread64, 'worker');
  if (svc !== undefined) out.push({ name: 'worker CPU per session read, 64 in flight', goal: '<= 60 us', measured: `${fmt(svc, 0)} us`, met: svc <= 60 });
  const redis = cpu(sread64, 'redis-server');
  if (redis !== undefined) out.push({ name: 'Redis CPU per session read, 64 in flight', goal: '<= 15 us', measured: `${fmt(redis, 0)} us`, met: redis <= 15 });
  const perKey = cpu(smany64, 'worker');
  if (perKey !== undefined) {
    out.push({ name: `worker CPU per key in a ${readKeys}-key session read, 64 in flight`, goal: '<= 12 us', measured: `${fmt(perKey / readKeys, 1)} us`, met: perKey / readKeys <= 12 });
  }
  if (smany64 && sread64 && smany64.keysPerSecond !== undefined) {
    const x = smany64.keysPerSecond / sread64.rps;
    out.push({ name: `${readKeys}-key session read keys/s vs single session reads/s (64 in flight)`, goal: '>= 10x', measured: `${fmt(x, 1)}x`, met: x >= 10 });
  }
  if (sread1) out.push({ name: 'single-flight session read p99', goal: '<= 2.5 ms', measured: `${fmt(sread1.p99, 3)} ms`, met: sread1.p99 <= 2.5 });
  if (sread64 && sreadOff64) {
    const slower = 1 - sread64.rps / sreadOff64.rps;
    out.push({ name: 'session read with audit on vs off, 64 in flight', goal: '<= 15% slower', measured: `${fmt(slower * 100, 1)}% slower (${fmt(sread64.rps, 0)} vs ${fmt(sreadOff64.rps, 0)} req/s)`, met: slower <= 0.15 });
  }
  if (sread64?.ratioToEcho != null) {
    out.push({ name: 'session read vs echo (lean echo), 64 in flight', goal: '>= 0.35', measured: fmt(sread64.ratioToEcho, 3), met: sread64.ratioToEcho >= 0.35 });
  }
  // The same goals for signed requests (issues 8/9, before sessions): kept to show what sessions changed.
  const read64 = find(rows, 'read 1 key', 64);
  const read1 = find(rows, 'read 1 key', 1);
  const many64 = find(rows, `read ${readKeys} keys`, 64);
  const list1 = find(rows, 'list page of 100', 1);
  if (read64?.ratioToEcho != null) {
    out.push({ name: 'signed read vs echo, 64 in flight', goal: '>= 0.35', measured: fmt(read64.ratioToEcho, 3), met: read64.ratioToEcho >= 0.35 });
  }
  if (read1) out.push({ name: 'single-flight signed read p99', goal: '<= 2 ms', measured: `${fmt(read1.p99, 3)} ms`, met: read1.p99 <= 2 });
  if (many64 && read64 && many64.keysPerSecond !== undefined) {
    const x = many64.keysPerSecond / read64.rps;
    out.push({ name: `${readKeys}-key signed read keys/s vs single signed reads/s (64 in flight)`, goal: '>= 10x', measured: `${fmt(x, 1)}x`, met: x >= 10 });
  }
  // The same workers with SECRET_SVC_AUDIT=off (docs/protocol.md §11): what the audit trail costs a read.
  for (const c of [1, 64]) {
    const on = find(rows, 'read 1 key', c);
    const off = find(rows, READ_AUDIT_OFF, c);
    if (!on || !off) continue;
    const slower = 1 - on.rps / off.rps;
    out.push({ name: `secure read with audit on vs off, ${c} in flight`, goal: '<= 15% slower', measured: `${fmt(slower * 100, 1)}% slower (${fmt(on.rps, 0)} vs ${fmt(off.rps, 0)} req/s)`, met: slower <= 0.15 });
  }
  if (list1) out.push({ name: 'list page p99 (1 in flight)', goal: '<= 10 ms', measured: `${fmt(list1.p99, 3)} ms`, met: list1.p99 <= 10 });
  out.push({ name: 'Redis memory per small secret', goal: '<= 600 B', measured: `${fmt(bytesPerSecret, 0)} B`, met: bytesPerSecret <= 600 });
  return out;
}
