/**
 * `npm run bench`: starts nats-server, redis-server (free ports) and worker processes, fills
 * Redis, then measures every scenario from separate load-generator processes and compares
 * each with a plain NATS echo measured in the same run. Prints a table and writes JSON.
 * Flags: see --help.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { Redis } from 'ioredis';
import { SecretClient } from '@secret-svc/client';
import { buildEnvelope, encodeBody, privateKeyObject, requestHead, type Encoding } from '@secret-svc/protocol';
import { rewrapAll } from '../src/cli/commands/keys/rewrap.js';
import { RedisKeys } from '../src/store/keys.js';
import { Sealer } from '../src/store/seal.js';
import { SecretStore } from '../src/store/secret-store.js';
import { TestIssuer } from '../test/helpers/identities.js';
import { NatsServer, RedisServer } from '../test/helpers/servers.js';
import { fairnessText, runFairness, usedMemory, type FairnessResults } from './fairness.js';
import { fill } from './lib/fill.js';
import type { Identity, RunResult, Scenario } from './lib/messages.js';
import { busyMeter, cpuByRole, cpuInfo, LoadGenerator, peakRss, rolePids, ROOT, startNode, type Child } from './lib/proc.js';
import { find, READ_AUDIT_OFF, SESSION_READ, sessionReadMany, table, targets, type Row } from './lib/report.js';

const program = new Command('bench')
  .description('secret-svc benchmark: secure operations against a plain NATS echo, same run')
  .option('--duration <seconds>', 'measured time per scenario and concurrency', '3')
  .option('--warmup <seconds>', 'unmeasured warm-up per scenario and concurrency', '0.5')
  .option('--prewarm <seconds>', 'unmeasured load on the worker\'s read paths (signed, session) before the first scenario, so its JIT has compiled them', '1.5')
  .option('--concurrency <list>', 'requests in flight, comma-separated', '1,64')
  .option('--workers <n>', 'worker processes (and echo responders for the baseline)', '1')
  .option('--secrets <n>', 'secrets to fill Redis with', '100000')
  .option('--visible <n>', 'of those, how many the benchmark caller sees (the rest are split among other slugs)', '1000')
  .option('--value-bytes <n>', 'value size of filled, created and updated secrets', '32')
  .option('--read-keys <n>', 'keys per multi-key read', '20')
  .addOption(new Option('--encoding <enc>', 'request encoding').choices(['msgpack', 'json']).default('msgpack'))
  .option('--only <list>', 'scenarios to run: echo,sread,read,sreadmany,readmany,whoami,list,update,create,flood,oldversion,rewrap,fairness (fairness writes bench/results/fairness.json and .txt; alone, it leaves --out alone)')
  .option('--nats-url <url>', 'use this NATS instead of starting one')
  .option('--redis-url <url>', 'use this Redis instead of starting one (the bench writes under its own key prefix)')
  .option('--redis-args <args>', 'extra redis-server arguments for the Redis we start, e.g. "--hash-max-listpack-value 128"')
  .option('--tsx', 'run workers from src/ through tsx instead of the compiled dist/')
  .option('--no-build', 'do not rebuild dist/ even if sources are newer')
  .option('--worker-node-args <flags>', 'extra node flags for the workers, e.g. "--max-semi-space-size=16"', '')
  .option('--cpu-prof [dir]', 'profile the workers (node --cpu-prof); profiles go to dir', false)
  .addOption(new Option('--audit <mode>', 'SECRET_SVC_AUDIT of the measured workers').choices(['jetstream', 'off']).default('jetstream'))
  .option('--clients-nice <n>', 'CPU priority (nice, 0–19) of the load generators, so that callers sharing this machine take less of the service\'s cores', '0')
  .option('--nats-request', 'load generators use nats.js\' nc.request() (what most clients use, and the independent check\'s echo) instead of the lean request-reply')
  .option('--out <file>', 'results file', 'bench/results/latest.json')
  .parse();

const o = program.opts<{
  duration: string; warmup: string; prewarm: string; concurrency: string; workers: string; secrets: string; visible: string; valueBytes: string;
  readKeys: string; encoding: Encoding; only?: string; natsRequest?: boolean; redisArgs?: string; natsUrl?: string; redisUrl?: string; tsx?: boolean; build: boolean;
  cpuProf: string | boolean; out: string; workerNodeArgs: string; audit: 'jetstream' | 'off'; clientsNice: string;
}>();

LoadGenerator.nice = Number(o.clientsNice);

const durationMs = Number(o.duration) * 1000;
const warmupMs = Number(o.warmup) * 1000;
const levels = o.concurrency.split(',').map(Number);
const workerCount = Number(o.workers);
const secrets = Number(o.secrets);
const visible = Number(o.visible);
const valueBytes = Number(o.valueBytes);
const readKeys = Number(o.readKeys);
const only = o.only ? new Set(o.only.split(',')) : undefined;
const wants = (name: string) => !only || only.has(name);
const tag = randomBytes(4).toString('hex');
const log = (line: string) => process.stderr.write(`${line}\n`);

/** Rebuilds dist/ when any source is newer than it (the compiled worker is what we measure). */
function ensureBuild(): void {
  const newest = (dir: string): number => readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
    const p = join(dir, e.name);
    return Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }, 0);
  let built = 0;
  try { built = statSync(join(ROOT, 'dist/src/main.js')).mtimeMs; } catch { /* not built */ }
  if (built > Math.max(newest(join(ROOT, 'src')), newest(join(ROOT, 'client/src')))) return;
  log('building dist/ (npm run build) ...');
  const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed');
}

async function main(): Promise<void> {
  if (!o.tsx && o.build) ensureBuild();
  const cleanup: (() => Promise<void>)[] = [];
  try {
    await bench(cleanup);
  } finally {
    for (const step of cleanup.reverse()) await step().catch((err: unknown) => log(`cleanup: ${String(err)}`));
  }
}

async function bench(cleanup: (() => Promise<void>)[]): Promise<void> {
  // Servers: our own on free ports unless given.
  let natsUrl = o.natsUrl;
  if (!natsUrl) {
    const nats = await NatsServer.start();
    cleanup.push(() => nats.stop());
    natsUrl = nats.url;
  }
  let redisUrl = o.redisUrl;
  if (!redisUrl) {
    const redisServer = await RedisServer.start(o.redisArgs ? o.redisArgs.split(/\s+/).filter(Boolean) : []);
    cleanup.push(() => redisServer.cleanup());
    redisUrl = redisServer.url;
  }
  const redisPrefix = o.redisUrl ? `secret-svc-bench-${tag}:` : 'secret-svc:';
  const subjectPrefix = o.natsUrl ? `bench-${tag}` : 'secret';
  const redis = new Redis(redisUrl);
  cleanup.push(async () => { redis.disconnect(); });
  if (o.redisUrl) {
    cleanup.push(async () => {
      let n = 0;
      for await (const batch of redis.scanStream({ match: `${redisPrefix}*`, count: 1000 })) if ((batch as string[]).length) n += await redis.unlink(...(batch as string[]));
      log(`removed ${n} bench keys from ${o.redisUrl}`);
    });
  }

  // Fill.
  const encryptionKey = randomBytes(32);
  const keys = new RedisKeys(redisPrefix);
  const sealer = new Sealer(new Uint8Array(encryptionKey));
  const owners = Math.max(1, Math.round(secrets / visible));
  const memBefore = await usedMemory(redis);
  log(`filling Redis with ${secrets} secrets (${owners} slugs x ${visible}, ${valueBytes}-byte values) by a direct pipeline ...`);
  const filled = await fill(redis, keys, sealer, { secrets, owners, valueBytes });
  const memAfter = await usedMemory(redis);
  const memory = {
    secrets,
    valueBytes,
    usedMemoryBefore: memBefore,
    usedMemoryAfter: memAfter,
    bytesPerSecret: (memAfter - memBefore) / secrets,
    ...(await memoryBreakdown(redis, keys, filled.keysOf(0), secrets)),
    fillSeconds: filled.seconds,
    fillMethod: 'direct Redis pipeline using the worker\'s own RedisKeys, record.ts field encodings and Sealer (byte-identical to a worker create; the worker\'s startup canary check opens a filled record)',
  };
  log(`filled in ${filled.seconds.toFixed(1)} s: ${memory.bytesPerSecret.toFixed(0)} bytes of Redis memory per secret`);

  // Identities and workers.
  const issuer = new TestIssuer();
  const reader = issuer.caller(filled.slug(0));
  const flooder = issuer.caller('mallory');
  const workerEnv = {
    NATS_URL: natsUrl, REDIS_URL: redisUrl, SECRET_SVC_ISSUERS: issuer.publicKey,
    SECRET_SVC_ENCRYPTION_KEY: encryptionKey.toString('base64'), SECRET_SVC_REDIS_PREFIX: redisPrefix,
    SECRET_SVC_SUBJECT_PREFIX: subjectPrefix, LOG_LEVEL: 'info', SECRET_SVC_AUDIT: o.audit,
    // On a NATS of its own the default stream; on a given one, a stream of the bench's own
    // (a worker refuses a stream that holds another prefix's subjects).
    ...(o.natsUrl ? { SECRET_SVC_AUDIT_STREAM: `BENCH_${tag}_AUDIT` } : {}),
  };
  const profDir = o.cpuProf ? resolve(ROOT, typeof o.cpuProf === 'string' ? o.cpuProf : 'bench/results/profiles') : undefined;
  if (profDir) mkdirSync(profDir, { recursive: true });
  const workerNodeArgs = o.workerNodeArgs ? o.workerNodeArgs.split(/\s+/).filter(Boolean) : [];
  const workerScript = o.tsx ? ['--import', 'tsx', 'src/main.ts'] : ['dist/src/main.js'];
  const workerArgs = [...workerNodeArgs, ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []), ...workerScript];
  const workers: Child[] = [];
  for (let i = 0; i < workerCount; i++) {
    const w = await startNode(workerArgs, workerEnv, /worker serving/, 'worker');
    workers.push(w);
    cleanup.push(() => w.stop());
  }
  log(`${workerCount} worker(s) serving (${o.tsx ? 'src via tsx' : 'dist'}): canary ${/"canary":"(\w+)"/.exec(workers[0]!.output())?.[1] ?? '?'}`);
  // The same workers with SECRET_SVC_AUDIT=off on their own subjects: the secure read is
  // measured with the audit trail on (the workers above) and off, in this one run.
  const offPrefix = `${subjectPrefix}-noaudit`;
  const workersOff: Child[] = [];
  if (wants('read') || wants('sread')) {
    for (let i = 0; i < workerCount; i++) {
      const w = await startNode(workerArgs, { ...workerEnv, SECRET_SVC_AUDIT: 'off', SECRET_SVC_SUBJECT_PREFIX: offPrefix }, /worker serving/, 'worker (audit off)');
      workersOff.push(w);
      cleanup.push(() => w.stop());
    }
  }

  // A real client checks the filled data and gives the reply size for the echo baseline.
  const readerKeys = filled.keysOf(0);
  const client = await SecretClient.connect({ servers: natsUrl, credential: reader.credential, key: reader.key, encoding: o.encoding, subjectPrefix });
  const sampleSecret = await client.read(readerKeys[0]!);
  const cursors: (string | null)[] = [null];
  for (;;) {
    const page = await client.list({ limit: 100, ...(cursors.at(-1) ? { cursor: cursors.at(-1)! } : {}) });
    if (!page.cursor) break;
    cursors.push(page.cursor);
  }
  await client.close();
  if (sampleSecret.value.length !== valueBytes || sampleSecret.readers[0] !== reader.slug) throw new Error('filled secret did not read back as written');
  const readBody = buildEnvelope(reader.credential, privateKeyObject(reader.key), { ...requestHead('read', 'secret-svc'), key: readerKeys[0] }, o.encoding);
  const readReplyBytes = encodeBody(sampleSecret, o.encoding).byteLength;
  log(`read-back ok; caller ${reader.slug} sees ${visible} secrets in ${cursors.length} pages of 100; read envelope ${readBody.byteLength} B, reply ${readReplyBytes} B`);

  // Echo responders for the baseline, one per worker, in the same runtime.
  const echoSubject = `${subjectPrefix}-echo.echo`;
  const echoes: Child[] = [];
  for (let i = 0; i < workerCount; i++) {
    const e = await startNode(['--import', 'tsx', 'bench/echo.ts', natsUrl, echoSubject, 'secret-svc-echo', String(readReplyBytes)], {}, /echo serving/, 'echo responder');
    echoes.push(e);
    cleanup.push(() => e.stop());
  }

  const loadInit = { natsUrl, subjectPrefix, audience: 'secret-svc', encoding: o.encoding, natsRequest: o.natsRequest === true };
  const load = await LoadGenerator.start({ ...loadInit, identity: reader as Identity }, profDir);
  cleanup.push(() => load.stop());
  const loadOff = workersOff.length > 0 ? await LoadGenerator.start({ ...loadInit, subjectPrefix: offPrefix, identity: reader as Identity }) : undefined;
  if (loadOff) cleanup.push(() => loadOff.stop());

  const scenarios: { id: string; name: string; scenario: Scenario; auditOff?: string }[] = [
    { id: 'echo', name: 'echo (baseline)', scenario: { kind: 'echo', subject: echoSubject, bodyBytes: readBody.byteLength } },
    // Sessions (docs/protocol.md §12): one per load-generator connection, every request sealed and its reply opened live.
    { id: 'sread', name: SESSION_READ, scenario: { kind: 'sread1', keys: readerKeys }, auditOff: `${SESSION_READ}, audit off` },
    { id: 'read', name: 'read 1 key', scenario: { kind: 'read1', keys: readerKeys }, auditOff: READ_AUDIT_OFF },
    { id: 'sreadmany', name: sessionReadMany(readKeys), scenario: { kind: 'sreadN', keys: readerKeys, perRequest: readKeys } },
    { id: 'readmany', name: `read ${readKeys} keys`, scenario: { kind: 'readN', keys: readerKeys, perRequest: readKeys } },
    { id: 'whoami', name: 'whoami', scenario: { kind: 'whoami' } },
    { id: 'list', name: 'list page of 100', scenario: { kind: 'list', cursors, limit: 100 } },
    { id: 'update', name: 'update', scenario: { kind: 'update', keys: readerKeys, valueBytes } },
    { id: 'create', name: 'create', scenario: { kind: 'create', keyPrefix: `${reader.slug}/bench-${tag}-`, valueBytes } },
  ];

  const roles = rolePids({
    worker: [...workers, ...workersOff].map((w) => w.proc.pid!), echo: echoes.map((e) => e.proc.pid!),
    'load generator': [load, ...(loadOff ? [loadOff] : [])].map((g) => g.proc.pid!),
  });
  /** Runs a job, reading every role's CPU time over exactly its measured phase. */
  const measure = async (gen: LoadGenerator, job: Parameters<LoadGenerator['run']>[0]): Promise<RunResult> => {
    let snap: ReturnType<typeof cpuByRole> | undefined;
    let cpu: ((n: number) => Record<string, number>) | undefined;
    const result = await gen.run(job, (phase) => {
      if (phase === 'start') snap = cpuByRole(roles);
      else if (snap) { const s = snap; const at = s.since(1); cpu = (n) => Object.fromEntries(Object.entries(at).map(([k, v]) => [k, v / n])); }
    });
    if (cpu) result.cpuMicrosPerRequest = cpu(result.requests);
    return result;
  };
  // Whichever scenario ran first used to pay for the worker's JIT compiling the request path
  // (its compiler threads count as the worker's CPU): warm the read paths the run uses up once, unmeasured.
  const prewarmMs = Number(o.prewarm) * 1000;
  if (prewarmMs > 0) {
    const paths: Scenario[] = [
      ...(wants('sread') || wants('sreadmany') ? [{ kind: 'sread1', keys: readerKeys } as const] : []),
      ...(wants('read') || wants('readmany') || wants('flood') ? [{ kind: 'read1', keys: readerKeys } as const] : []),
    ];
    for (const scenario of paths) {
      for (const gen of [load, ...(loadOff ? [loadOff] : [])]) {
        await gen.run({ scenario, concurrency: 64, warmupMs: prewarmMs, durationMs: 1, presign: false });
      }
    }
  }
  const rows: Row[] = [];
  const meter = busyMeter();
  const started = Date.now();
  for (const s of scenarios.filter((x) => wants(x.id))) {
    for (const concurrency of levels) {
      // With audit on (every worker above), then right after on the audit-off workers, so both
      // see the same load from the rest of the machine.
      const runs: [string, LoadGenerator][] = [[s.name, load], ...(s.auditOff && loadOff ? [[s.auditOff, loadOff] as [string, LoadGenerator]] : [])];
      for (const [name, gen] of runs) {
        const result = await measure(gen, { scenario: s.scenario, concurrency, warmupMs, durationMs, presign: true });
        const echo = find(rows, 'echo (baseline)', concurrency);
        const row: Row = {
          scenario: name, concurrency, ...result,
          ratioToEcho: echo && s.id !== 'echo' ? result.rps / echo.rps : null,
          ...(s.scenario.kind === 'readN' || s.scenario.kind === 'sreadN' ? { keysPerSecond: result.rps * readKeys } : {}),
        };
        rows.push(row);
        log(`${name} @${concurrency}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50.toFixed(3)} ms, p99 ${result.p99.toFixed(3)} ms, errors ${result.errors}`);
      }
    }
  }

  // A good client's single-flight read latency while another client floods bad signatures.
  let flood: { good: Row; flood: RunResult } | undefined;
  if (wants('flood')) {
    const bad = await LoadGenerator.start({ ...loadInit, identity: flooder as Identity });
    cleanup.push(() => bad.stop());
    const floodRun = bad.run({ scenario: { kind: 'badsig' }, concurrency: 64, warmupMs: 0, durationMs: warmupMs + durationMs + 3000, presign: false });
    await new Promise((r) => setTimeout(r, 300));
    const good = await load.run({ scenario: { kind: 'read1', keys: readerKeys }, concurrency: 1, warmupMs, durationMs, presign: true });
    const floodResult = await floodRun;
    const quiet = find(rows, 'read 1 key', 1);
    const goodRow: Row = { scenario: 'read 1 key, during bad-signature flood', concurrency: 1, ...good, ratioToEcho: null };
    const floodRow: Row = { scenario: 'bad-signature flood (401s)', concurrency: 64, ...floodResult, ratioToEcho: null };
    rows.push(goodRow, floodRow);
    flood = { good: goodRow, flood: floodResult };
    log(`flood: good read p50 ${good.p50.toFixed(3)} ms p99 ${good.p99.toFixed(3)} ms (quiet p99 ${quiet?.p99.toFixed(3) ?? '?'} ms) while ${floodResult.rps.toFixed(0)} bad req/s were refused`);
  }
  // Another caller's single session reads while one non-admin caller attacks (bench/fairness.ts).
  let fairness: FairnessResults | undefined;
  if (wants('fairness')) {
    fairness = await runFairness({
      natsUrl, subjectPrefix, encoding: o.encoding, issuer, victim: load, victimKeys: readerKeys, redis, warmupMs, durationMs, cleanup, log,
    });
    rows.push(...fairness.rows);
  }
  const busy = meter.stop();
  const measuredSeconds = (Date.now() - started) / 1000;

  const rss = workers.map((w) => peakRss(w.proc.pid!) ?? null);

  // Redis memory of one old version of a small secret: keys the update scenario did not touch, updated once.
  let oldVersion: Awaited<ReturnType<typeof measureOldVersion>> | undefined;
  if (wants('oldversion') && owners > 1) {
    const owner = issuer.caller(filled.slug(1));
    const c = await SecretClient.connect({ servers: natsUrl, credential: owner.credential, key: owner.key, encoding: o.encoding, subjectPrefix });
    try {
      oldVersion = await measureOldVersion(redis, keys, c, filled.keysOf(1).slice(0, 200), valueBytes);
    } finally {
      await c.close();
    }
    log(`old version of a ${valueBytes}-byte secret: ${oldVersion.bytesPerOldVersion.toFixed(0)} B of Redis memory (sealed value ${oldVersion.sealedValueBytes} B + ${oldVersion.overheadBytes.toFixed(0)} B)`);
  }

  // keys rewrap of everything stored (every kept version and the canary) to a new first key, workers still serving.
  let rewrap: Awaited<ReturnType<typeof measureRewrap>> | undefined;
  if (wants('rewrap')) {
    rewrap = await measureRewrap(redis, redisPrefix, encryptionKey);
    log(`rewrap: ${rewrap.values} values in ${rewrap.records} records moved in ${rewrap.seconds.toFixed(1)} s: ${rewrap.valuesPerSecond.toFixed(0)} values/s`);
  }
  const memAfterRun = await usedMemory(redis);
  const bytesPerSecret = memory.bytesPerSecret;
  const results = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    node: process.version,
    cpu: cpuInfo(),
    machine: {
      busy,
      note: `other processes used ${(busy.otherProcesses * 100).toFixed(0)}% of all cores while the scenarios ran (the benchmark itself ${(busy.benchmark * 100).toFixed(0)}%)`,
    },
    options: {
      durationSeconds: durationMs / 1000, warmupSeconds: warmupMs / 1000, concurrency: levels, workers: workerCount,
      encoding: o.encoding, worker: ['node', ...workerNodeArgs, ...workerScript].join(' '), readKeys, profiled: Boolean(profDir),
    },
    sizes: { readEnvelopeBytes: readBody.byteLength, readReplyBytes },
    redisMemory: { ...memory, usedMemoryAfterRun: memAfterRun, note: 'after the run, used nonces (kept ~61 s) add to it' },
    workerPeakRssBytes: rss,
    oldVersion,
    rewrap,
    scenarios: rows,
    flood: flood && { goodReadP50: flood.good.p50, goodReadP99: flood.good.p99, goodReadMax: flood.good.max, badRequestsPerSecond: flood.flood.rps },
    targets: targets(rows, bytesPerSecret, readKeys),
    fairness: fairness && { ...fairness, rows: undefined },
    measuredSeconds,
  };

  // Stop the workers now so their CPU profiles are written.
  for (const w of [...workers, ...workersOff]) await w.stop();

  process.stdout.write(`\nsecret-svc benchmark: ${results.cpu.model} x ${results.cpu.cores} cores, node ${process.version}, ${workerCount} worker(s), ${o.encoding}\n`);
  process.stdout.write(`${results.machine.note}; load average before ${busy.loadavgBefore.map((x) => x.toFixed(2)).join(' ')}\n\n`);
  process.stdout.write(`${table(rows)}\n\n`);
  process.stdout.write(`Redis memory: ${bytesPerSecret.toFixed(0)} B per secret at ${secrets} secrets (record ${memory.recordBytes.toFixed(0)} B, all-index ${memory.allIndexBytesPerMember.toFixed(0)} B, visibility index ${memory.visibleIndexBytesPerMember.toFixed(0)} B per member, by MEMORY USAGE)\n`);
  if (oldVersion) process.stdout.write(`old version of a ${valueBytes}-byte secret: ${oldVersion.bytesPerOldVersion.toFixed(0)} B of Redis memory (sealed value ${oldVersion.sealedValueBytes} B + ${oldVersion.overheadBytes.toFixed(0)} B; goal: at most + 80 B)\n`);
  if (rewrap) process.stdout.write(`keys rewrap: ${rewrap.values} values (${rewrap.records} records) in ${rewrap.seconds.toFixed(1)} s = ${rewrap.valuesPerSecond.toFixed(0)} values/s, ${rewrap.recordsPerSecond.toFixed(0)} records/s\n`);
  process.stdout.write(`worker peak RSS: ${rss.map((b) => (b === null ? '?' : `${(b / 2 ** 20).toFixed(0)} MiB`)).join(', ')}\n\ntargets:\n`);
  for (const t of results.targets) process.stdout.write(`  ${t.met ? 'met   ' : 'MISSED'} ${t.name}: ${t.measured} (goal ${t.goal})\n`);
  if (fairness) {
    const note = `${results.date}, commit ${results.commit}, ${results.cpu.model} x ${results.cpu.cores} cores, ${workerCount} worker(s), ${o.encoding}, audit ${o.audit}, load generators at nice ${LoadGenerator.nice}; `
      + `${results.machine.note}; load average before ${busy.loadavgBefore.map((x) => x.toFixed(2)).join(' ')}`;
    const text = fairnessText(fairness, note);
    process.stdout.write(`\n${text}`);
    const name = `bench/results/fairness${o.audit === 'off' ? '-audit-off' : ''}`;
    writeFileSync(resolve(ROOT, `${name}.json`), `${JSON.stringify({ date: results.date, commit: results.commit, cpu: results.cpu, machine: results.machine, options: { ...results.options, audit: o.audit }, ...fairness }, null, 2)}\n`);
    writeFileSync(resolve(ROOT, `${name}.txt`), text);
    process.stdout.write(`wrote ${name}.json and ${name}.txt\n`);
    if (only && only.size === 1) return;
  }
  const out = resolve(ROOT, o.out);
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\nwrote ${o.out}${profDir ? `; worker CPU profiles in ${profDir}` : ''}\n`);
}

/** Where the bytes go, by MEMORY USAGE: a record hash, and the indexes per member. */
async function memoryBreakdown(redis: Redis, keys: RedisKeys, sample: string[], total: number) {
  const usage = async (key: string) => Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
  const some = sample.slice(0, 200);
  let recordSum = 0;
  for (const k of some) recordSum += await usage(keys.record(k));
  const all = await usage(keys.all);
  const vis = await usage(keys.visible(sample[0]!.split('/')[0]!));
  return {
    recordBytes: recordSum / some.length,
    allIndexBytesPerMember: all / total,
    visibleIndexBytesPerMember: vis / sample.length,
  };
}

/** MEMORY USAGE of records before and after one update each: the update's growth is the old version kept. */
async function measureOldVersion(redis: Redis, keys: RedisKeys, client: SecretClient, sample: string[], valueBytes: number) {
  const usage = async (key: string) => Number(await redis.call('MEMORY', 'USAGE', keys.record(key), 'SAMPLES', '0'));
  let before = 0;
  let after = 0;
  for (const k of sample) before += await usage(k);
  for (const k of sample) await client.update(k, { value: randomBytes(valueBytes).toString('base64').slice(0, valueBytes) });
  for (const k of sample) after += await usage(k);
  const bytesPerOldVersion = (after - before) / sample.length;
  // A sealed value: format byte, key id, nonce and tag (the 45-byte head) and the ciphertext, as long as the value.
  const sealedValueBytes = 45 + valueBytes;
  return { sample: sample.length, valueBytes, bytesPerOldVersion, sealedValueBytes, overheadBytes: bytesPerOldVersion - sealedValueBytes };
}

/** `keys rewrap`'s own loop (rewrapAll) with the ring [new, current]: every stored value moves. */
async function measureRewrap(redis: Redis, redisPrefix: string, currentKey: Buffer) {
  const store = new SecretStore(redis, new RedisKeys(redisPrefix), new Sealer([new Uint8Array(randomBytes(32)), new Uint8Array(currentKey)]), { maxVersions: 10, watchHistory: 100_000 });
  const values = [...(await store.keyring.countByKeyId()).values()].reduce((a, b) => a + b, 0);
  const started = process.hrtime.bigint();
  const s = await rewrapAll(store, { progress: () => ({ tick() {}, stop() {} }) });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (s.left.size > 0 || s.failed > 0) throw new Error('rewrap left values behind');
  const records = s.moved + s.current;
  return { values, records, moved: s.moved, seconds, valuesPerSecond: values / seconds, recordsPerSecond: records / seconds, batch: 100 };
}

function gitCommit(): string | null {
  const r = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', 'src', 'client/src'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
  return r.status === 0 ? `${r.stdout.trim()}${dirty ? ' (+ uncommitted changes in src/client)' : ''}` : null;
}

await main();
