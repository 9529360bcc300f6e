/**
 * A load generator: a separate process (forked by run.ts) so its CPU is not the worker's.
 * It keeps `concurrency` requests in flight for a fixed time and times each one. Envelopes
 * are signed with node:crypto, each with a fresh nonce; for the measured phase they are
 * signed in advance (sized from the warm-up rate) so signing does not throttle the load.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { connect, type NatsConnection } from 'nats';
import {
  buildEnvelope, encodeBody, ERROR_CODE_HEADER, privateKeyObject, requestHead, subjectFor, type Op,
} from '@secret-svc/protocol';
import type { FromLoad, LoadInit, RunJob, RunResult, Scenario, ToLoad } from './lib/messages.js';
import { Samples } from './lib/stats.js';

const REQUEST_TIMEOUT_MS = 10_000;

interface Generator {
  subject: string;
  /** One request body, ready to send (fresh nonce, signed). */
  make(): Uint8Array;
  /** False when bodies cost nothing to make (echo): no pool needed. */
  signs: boolean;
}

let nc: NatsConnection;
let init: LoadInit;

function send(m: FromLoad): void {
  process.send!(m);
}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

function sample<T>(items: readonly T[], n: number): T[] {
  const chosen = new Set<number>();
  while (chosen.size < n) chosen.add(Math.floor(Math.random() * items.length));
  return [...chosen].map((i) => items[i]!);
}

function randomValue(bytes: number): string {
  return randomBytes(Math.ceil((bytes * 3) / 4)).toString('base64url').slice(0, bytes);
}

function generator(s: Scenario): Generator {
  const { identity, audience, encoding, subjectPrefix } = init;
  const key = privateKeyObject(identity.key);
  const signed = (op: Op, params: () => object): Generator => ({
    subject: subjectFor(subjectPrefix, op),
    signs: true,
    make: () => buildEnvelope(identity.credential, key, { ...requestHead(op, audience), ...params() }, encoding),
  });
  // A tag per job keeps created keys unique across jobs and runs.
  const jobTag = randomBytes(3).toString('hex');
  let counter = 0;
  switch (s.kind) {
    case 'echo': {
      const body = randomBytes(s.bodyBytes);
      return { subject: s.subject, signs: false, make: () => body };
    }
    case 'whoami': return signed('whoami', () => ({}));
    case 'read1': return signed('read', () => ({ key: pick(s.keys) }));
    case 'readN': return signed('read', () => ({ keys: sample(s.keys, s.perRequest) }));
    case 'list': return signed('list', () => {
      const cursor = pick(s.cursors);
      return cursor === null ? { limit: s.limit } : { limit: s.limit, cursor };
    });
    case 'update': return signed('update', () => ({ key: pick(s.keys), value: randomValue(s.valueBytes) }));
    case 'create': return signed('create', () => ({ key: `${s.keyPrefix}${jobTag}-${counter++}`, value: randomValue(s.valueBytes) }));
    case 'badsig': {
      // A valid credential (so it is cached as accepted) and a payload that decodes, but a
      // random signature: the worker must verify it, the most expensive way to be refused.
      const subject = subjectFor(subjectPrefix, 'read');
      return {
        subject,
        signs: false,
        make: () => {
          const payload = encodeBody({ ...requestHead('read', audience), key: 'x/y' }, encoding);
          const sig = randomBytes(64);
          return encoding === 'json'
            ? encodeBody({ cred: identity.credential, payload: Buffer.from(payload).toString('utf8'), sig: sig.toString('base64url') }, 'json')
            : encodeBody({ cred: identity.credential, payload, sig }, 'msgpack');
        },
      };
    }
  }
}

/** Keeps `concurrency` requests in flight for `ms`; returns elapsed seconds. */
async function drive(
  subject: string, next: () => Uint8Array, concurrency: number, ms: number,
  samples: Samples | undefined, statuses: Record<string, number>, sizes: { request: number; reply: number },
): Promise<{ seconds: number; replies: number }> {
  const started = performance.now();
  const end = started + ms;
  let replies = 0;
  const lane = async () => {
    while (performance.now() < end) {
      const body = next();
      const t0 = performance.now();
      try {
        const msg = await nc.request(subject, body, { timeout: REQUEST_TIMEOUT_MS });
        const dt = performance.now() - t0;
        replies++;
        samples?.push(dt);
        if (sizes.request === 0) {
          sizes.request = body.byteLength;
          sizes.reply = msg.data.byteLength;
        }
        const status = msg.headers?.get(ERROR_CODE_HEADER);
        if (status) statuses[status] = (statuses[status] ?? 0) + 1;
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'error';
        statuses[code] = (statuses[code] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { seconds: (performance.now() - started) / 1000, replies };
}

async function run(job: RunJob): Promise<RunResult> {
  const gen = generator(job.scenario);
  const sizes = { request: 0, reply: 0 };
  const warm = await drive(gen.subject, () => gen.make(), job.concurrency, job.warmupMs, undefined, {}, sizes);
  let pool: Uint8Array[] = [];
  if (job.presign && gen.signs) {
    // Enough for the measured phase at 2 x the warm-up rate (which paid for signing).
    const n = Math.ceil((warm.replies / Math.max(warm.seconds, 0.001)) * (job.durationMs / 1000) * 2) + job.concurrency * 4;
    pool = Array.from({ length: n }, () => gen.make());
  }
  let onTheFly = 0;
  const next = () => {
    const body = pool.pop();
    if (body) return body;
    onTheFly++;
    return gen.make();
  };
  const samples = new Samples();
  const statuses: Record<string, number> = {};
  send({ type: 'phase', id: job.id, phase: 'start' });
  const { seconds } = await drive(gen.subject, next, job.concurrency, job.durationMs, samples, statuses, sizes);
  send({ type: 'phase', id: job.id, phase: 'end' });
  const expected = job.scenario.kind === 'badsig' ? '401' : undefined;
  const errors = Object.entries(statuses).reduce((n, [s, c]) => (s === expected ? n : n + c), 0);
  pool = [];
  return {
    ...samples.summarise(seconds, errors), signedOnTheFly: gen.signs ? onTheFly : 0,
    requestBytes: sizes.request, replyBytes: sizes.reply, statuses,
  };
}

process.on('message', (m: ToLoad) => {
  void (async () => {
    if (m.type === 'init') {
      init = m;
      nc = await connect({ servers: m.natsUrl, noAsyncTraces: true, name: 'secret-svc-bench-load' });
      send({ type: 'ready' });
    } else if (m.type === 'run') {
      try {
        send({ type: 'result', id: m.id, result: await run(m) });
      } catch (err) {
        send({ type: 'failed', id: m.id, error: err instanceof Error ? err.stack ?? err.message : String(err) });
      }
    } else {
      await nc?.close();
      process.exit(0);
    }
  })();
});
