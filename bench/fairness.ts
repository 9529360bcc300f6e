/**
 * The fairness scenarios of `npm run bench` (`--only fairness`): another caller's single
 * session reads (one in flight), quiet and while one non-admin caller runs each attack —
 * session batch reads of 16 values of 60 KB at 16 and at 128 in flight, lists of limit
 * 1000 over secrets whose lists hold 300 slugs, a handshake flood with one reused `epk` —
 * with the attacker's own replies (503s expected) and Redis's peak memory per attack.
 */
import { Redis } from 'ioredis';
import { SecretClient } from '@secret-svc/client';
import type { Encoding } from '@secret-svc/protocol';
import type { TestIssuer } from '../test/helpers/identities.js';
import type { Identity, RunResult, Scenario } from './lib/messages.js';
import { LoadGenerator } from './lib/proc.js';
import type { Row } from './lib/report.js';

export interface FairnessSetup {
  natsUrl: string;
  subjectPrefix: string;
  encoding: Encoding;
  issuer: TestIssuer;
  /** The other caller's load generator, and the keys it reads. */
  victim: LoadGenerator;
  victimKeys: string[];
  redis: Redis;
  warmupMs: number;
  durationMs: number;
  cleanup: (() => Promise<void>)[];
  log: (line: string) => void;
}

export interface AttackFigures {
  attack: string;
  attackerInFlight: number;
  /** The other caller's single session reads meanwhile. */
  victim: { p50: number; p99: number; max: number; errors: number; requests: number };
  /** The attacker's replies: req/s and error statuses (503 / 413 expected). */
  attacker: { rps: number; statuses: Record<string, number> };
  redisPeakUsedMemory: number;
  met: boolean;
}

export interface FairnessResults {
  goal: string;
  quiet: AttackFigures['victim'];
  quietAfter: AttackFigures['victim'];
  attacks: AttackFigures[];
  redisMaxmemory: number;
  rows: Row[];
}

const VALUE_BYTES = 60_000;
const BIG_KEYS = 16;
const LISTED = 1000;
const SLUGS_PER_LIST = 100;
/** The bench's Redis runs bounded like deploy/redis.conf. */
const MAXMEMORY = 1024 * 2 ** 20;
const TARGET = { p50: 20, p99: 100 };

export async function runFairness(s: FairnessSetup): Promise<FairnessResults> {
  const mallory = s.issuer.caller('mallory-fair');
  await s.redis.call('CONFIG', 'SET', 'maxmemory', String(MAXMEMORY));
  await s.redis.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 256mb 64mb 60');
  const { bigKeys } = await seed(s, mallory);
  const attacker = await LoadGenerator.start({ natsUrl: s.natsUrl, subjectPrefix: s.subjectPrefix, audience: 'secret-svc', encoding: s.encoding, identity: mallory as Identity });
  s.cleanup.push(() => attacker.stop());

  const victimRead: Scenario = { kind: 'sread1', keys: s.victimKeys };
  const quietRun = () => s.victim.run({ scenario: victimRead, concurrency: 1, warmupMs: s.warmupMs, durationMs: s.durationMs, presign: true });
  const rows: Row[] = [];
  const row = (scenario: string, concurrency: number, r: RunResult): Row => {
    const out: Row = { scenario, concurrency, ...r, ratioToEcho: null };
    rows.push(out);
    return out;
  };
  const quiet = figures(row('fairness: other caller\'s session read, quiet', 1, await quietRun()));
  s.log(`fairness quiet: p50 ${quiet.p50.toFixed(3)} ms, p99 ${quiet.p99.toFixed(3)} ms, errors ${quiet.errors}`);

  const attacks: { name: string; scenario: Scenario; concurrency: number }[] = [
    { name: `session batch reads of ${BIG_KEYS} x 60 KB`, scenario: { kind: 'sreadN', keys: bigKeys, perRequest: BIG_KEYS }, concurrency: 16 },
    { name: `session batch reads of ${BIG_KEYS} x 60 KB`, scenario: { kind: 'sreadN', keys: bigKeys, perRequest: BIG_KEYS }, concurrency: 128 },
    { name: `lists of limit ${LISTED} over secrets with ${3 * SLUGS_PER_LIST}-slug lists`, scenario: { kind: 'list', cursors: [null], limit: LISTED }, concurrency: 64 },
    { name: 'handshake flood, one reused epk', scenario: { kind: 'handshake' }, concurrency: 128 },
  ];
  const results: AttackFigures[] = [];
  for (const a of attacks) {
    let peak = 0;
    const poll = setInterval(() => { void usedMemory(s.redis).then((m) => { peak = Math.max(peak, m); }, () => {}); }, 50);
    const attackRun = attacker.run({ scenario: a.scenario, concurrency: a.concurrency, warmupMs: 0, durationMs: s.warmupMs + s.durationMs + 1000, presign: false });
    await new Promise((r) => setTimeout(r, 300));
    const victim = figures(row(`fairness: other caller's session read, during ${a.name} @${a.concurrency}`, 1, await quietRun()));
    const attack = await attackRun;
    clearInterval(poll);
    row(`fairness attacker: ${a.name}`, a.concurrency, attack);
    const met = victim.p50 <= TARGET.p50 && victim.p99 <= TARGET.p99 && victim.errors === 0 && peak < MAXMEMORY;
    results.push({ attack: a.name, attackerInFlight: a.concurrency, victim, attacker: { rps: attack.rps, statuses: attack.statuses }, redisPeakUsedMemory: peak, met });
    s.log(`fairness during ${a.name} @${a.concurrency}: other caller p50 ${victim.p50.toFixed(3)} ms, p99 ${victim.p99.toFixed(3)} ms, errors ${victim.errors}; `
      + `attacker ${attack.rps.toFixed(0)} req/s, ${JSON.stringify(attack.statuses)}; Redis peak ${(peak / 2 ** 20).toFixed(1)} MiB`);
    // Let the attack's last replies drain before the next one.
    await new Promise((r) => setTimeout(r, 500));
  }
  const quietAfter = figures(row('fairness: other caller\'s session read, quiet again', 1, await quietRun()));
  return {
    goal: `under each attack the other caller's p50 <= ${TARGET.p50} ms, p99 <= ${TARGET.p99} ms, 0 errors; Redis under its maxmemory`,
    quiet, quietAfter, attacks: results, redisMaxmemory: MAXMEMORY, rows,
  };
}

function figures(r: RunResult): AttackFigures['victim'] {
  return { p50: r.p50, p99: r.p99, max: r.max, errors: r.errors, requests: r.requests };
}

/** The attacker's data, stored through a worker like any caller's: 16 large values, 1000 secrets with long lists. */
async function seed(s: FairnessSetup, mallory: ReturnType<TestIssuer['caller']>): Promise<{ bigKeys: string[] }> {
  const c = await SecretClient.connect({
    servers: s.natsUrl, credential: mallory.credential, key: mallory.key, encoding: s.encoding, subjectPrefix: s.subjectPrefix, timeoutMs: 30_000, retries: 5,
  });
  try {
    const bigKeys = Array.from({ length: BIG_KEYS }, (_, i) => `${mallory.slug}/big-${String(i).padStart(2, '0')}`);
    await Promise.all(bigKeys.map((k, i) => c.create(k, String.fromCharCode(97 + i).repeat(VALUE_BYTES))));
    const peers = (list: string) => Array.from({ length: SLUGS_PER_LIST - 1 }, (_, i) => `peer-${list}-${String(i).padStart(3, '0')}-service-account`);
    const lists = { readers: [mallory.slug, ...peers('r')], writers: [mallory.slug, ...peers('w')], deleters: [mallory.slug, ...peers('d')] };
    for (let i = 0; i < LISTED; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => c.create(`${mallory.slug}/listed-${String(i + j).padStart(4, '0')}`, 'v', lists)));
    }
    s.log(`fairness: ${mallory.slug} stored ${BIG_KEYS} values of ${VALUE_BYTES} B and ${LISTED} secrets with ${3 * SLUGS_PER_LIST} slugs in their lists`);
    return { bigKeys };
  } finally {
    await c.close();
  }
}

export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}

/** The figures as a short text: quiet vs each attack. */
export function fairnessText(r: FairnessResults, note: string): string {
  const ms = (n: number) => n.toFixed(2).padStart(8);
  const line = (name: string, v: AttackFigures['victim'], extra = '') => `${name.padEnd(64)} ${ms(v.p50)} ${ms(v.p99)} ${ms(v.max)} ${String(v.errors).padStart(6)}  ${extra}`;
  return [
    `fairness: another caller's single session reads (1 in flight), quiet and under each attack by one non-admin caller`,
    note,
    `goal: ${r.goal} (quiet about 1 ms / 5 ms)`,
    '',
    `${'scenario'.padEnd(64)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'errors'.padStart(6)}  attacker / Redis`,
    line('quiet', r.quiet),
    ...r.attacks.map((a) => line(`${a.attack} @${a.attackerInFlight}`, a.victim,
      `${a.met ? 'met' : 'MISSED'}; attacker ${a.attacker.rps.toFixed(0)} req/s ${JSON.stringify(a.attacker.statuses)}; Redis peak ${(a.redisPeakUsedMemory / 2 ** 20).toFixed(1)} MiB of ${(r.redisMaxmemory / 2 ** 20).toFixed(0)} MiB`)),
    line('quiet again', r.quietAfter),
    '',
  ].join('\n');
}
