/**
 * A load generator: a separate process (forked by run.ts) so its CPU is not the worker's.
 * It keeps `concurrency` requests in flight for a fixed time and times each one. Envelopes
 * are signed with node:crypto, each with a fresh nonce; for the measured phase they are
 * signed in advance (sized from the warm-up rate) so signing does not throttle the load.
 *
 * Session scenarios do the client's real work on every request, inside the timed path: the
 * generator opens one session per connection with a signed `session` request (docs/protocol.md
 * §12), seals and MACs each request object as it sends it (buildSessionEnvelope), and opens
 * each sealed reply and checks that it starts with its request's MAC (a reply that does not
 * counts as an error, "badreply").
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { connect, type NatsConnection } from 'nats';
import {
  agree, buildEnvelope, buildSessionEnvelope, decodeBody, deriveSessionKeys, encodeBody, ERROR_CODE_HEADER, ERROR_MESSAGE_HEADER, fromBase64url,
  generateSessionKeyPair, openSessionReply, privateKeyObject, requestHead, sessionReplySchema, subjectFor, toBase64url,
  type Op, type SessionHandle,
} from '@secret-svc/protocol';
import type { FromLoad, LoadInit, RunJob, RunResult, Scenario, ToLoad } from './lib/messages.js';
import { Requests } from './lib/requests.js';
import { Samples } from './lib/stats.js';

const REQUEST_TIMEOUT_MS = 10_000;

/** One request ready to send; `mac` for a session request (its sealed reply must start with it). */
interface Built {
  body: Uint8Array;
  mac?: Uint8Array;
}

interface Generator {
  subject: string;
  /** One request, ready to send (fresh nonce, signed or sealed). */
  make(): Built;
  /** False when bodies cost nothing to make (echo) or are made live (sessions): no pool. */
  signs: boolean;
  /** For session requests: true when a success reply opens and answers this request. */
  accept?(built: Built, reply: Uint8Array): boolean;
}

let nc: NatsConnection;
/** The measured requests' request-reply (one inbox subscription, or nc.request() with --nats-request). */
let requests: Pick<Requests, 'request' | 'close'>;
let init: LoadInit;
/** This connection's session, opened by the first session scenario and reused after. */
let session: { handle: SessionHandle; expiresAtMs: number } | undefined;

/** Opens a session (a signed `session` request) unless the current one lasts another minute. */
async function ensureSession(): Promise<SessionHandle> {
  if (session && session.expiresAtMs - Date.now() > 60_000) return session.handle;
  const { identity, audience, encoding, subjectPrefix } = init;
  const own = generateSessionKeyPair();
  const request = { ...requestHead('session', audience), epk: toBase64url(own.publicKey) };
  const msg = await nc.request(subjectFor(subjectPrefix, 'session'), buildEnvelope(identity.credential, privateKeyObject(identity.key), request, encoding), { timeout: REQUEST_TIMEOUT_MS });
  const status = msg.headers?.get(ERROR_CODE_HEADER);
  if (status) throw new Error(`session request refused: ${status} ${msg.headers?.get(ERROR_MESSAGE_HEADER) ?? ''}`);
  const reply = sessionReplySchema.parse(decodeBody(msg.data, encoding));
  const spk = fromBase64url(reply.spk)!;
  const keys = deriveSessionKeys(agree(own.privateKey, spk), own.publicKey, spk);
  session = { handle: { ticket: reply.ticket, keys }, expiresAtMs: Date.parse(reply.expiresAt) };
  return session.handle;
}

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

function generator(s: Scenario, handle: SessionHandle | undefined): Generator {
  const { identity, audience, encoding, subjectPrefix } = init;
  const key = privateKeyObject(identity.key);
  const signed = (op: Op, params: () => object): Generator => ({
    subject: subjectFor(subjectPrefix, op),
    signs: true,
    make: () => ({ body: buildEnvelope(identity.credential, key, { ...requestHead(op, audience), ...params() }, encoding) }),
  });
  const sessioned = (op: Op, params: () => object): Generator => {
    const h = handle!;
    return {
      subject: subjectFor(subjectPrefix, op),
      signs: false,
      make: () => buildSessionEnvelope(h, { ...requestHead(op, audience), ...params() }, encoding),
      accept: (built, reply) => {
        try {
          openSessionReply(h.keys.replyKey, built.mac!, decodeBody(reply, encoding), encoding);
          return true;
        } catch {
          return false;
        }
      },
    };
  };
  // A tag per job keeps created keys unique across jobs and runs.
  const jobTag = randomBytes(3).toString('hex');
  let counter = 0;
  switch (s.kind) {
    case 'echo': {
      const built = { body: randomBytes(s.bodyBytes) };
      return { subject: s.subject, signs: false, make: () => built };
    }
    case 'whoami': return signed('whoami', () => ({}));
    case 'read1': return signed('read', () => ({ key: pick(s.keys) }));
    case 'readN': return signed('read', () => ({ keys: sample(s.keys, s.perRequest) }));
    case 'sread1': return sessioned('read', () => ({ key: pick(s.keys) }));
    case 'sreadN': return sessioned('read', () => ({ keys: sample(s.keys, s.perRequest) }));
    case 'list': return signed('list', () => {
      const cursor = pick(s.cursors);
      return cursor === null ? { limit: s.limit } : { limit: s.limit, cursor };
    });
    case 'update': return signed('update', () => ({ key: pick(s.keys), value: randomValue(s.valueBytes) }));
    case 'create': return signed('create', () => ({ key: `${s.keyPrefix}${jobTag}-${counter++}`, value: randomValue(s.valueBytes) }));
    case 'handshake': {
      const epk = toBase64url(generateSessionKeyPair().publicKey);
      return signed('session', () => ({ epk }));
    }
    case 'badsig': {
      // A valid credential (so it is cached as accepted) and a payload that decodes, but a
      // random signature: the worker must verify it, the most expensive way to be refused.
      const subject = subjectFor(subjectPrefix, 'read');
      return {
        subject,
        signs: false,
        make: () => ({ body: badsig() }),
      };
      function badsig(): Uint8Array {
        {
          const payload = encodeBody({ ...requestHead('read', audience), key: 'x/y' }, encoding);
          const sig = randomBytes(64);
          return encoding === 'json'
            ? encodeBody({ cred: identity.credential, payload: Buffer.from(payload).toString('utf8'), sig: sig.toString('base64url') }, 'json')
            : encodeBody({ cred: identity.credential, payload, sig }, 'msgpack');
        }
      }
    }
  }
}

/** Keeps `concurrency` requests in flight for `ms`; returns elapsed seconds. */
async function drive(
  gen: Generator, next: () => Built, concurrency: number, ms: number,
  samples: Samples | undefined, statuses: Record<string, number>, sizes: { request: number; reply: number },
): Promise<{ seconds: number; replies: number }> {
  const started = performance.now();
  const end = started + ms;
  let replies = 0;
  const { subject, accept } = gen;
  const lane = async () => {
    while (performance.now() < end) {
      // Session envelopes are sealed and MACed here, inside the timed path, as a client does;
      // a pre-signed envelope's signing is not timed (a live one's is, as before).
      const before = performance.now();
      const built = next();
      const t0 = gen.signs ? performance.now() : before;
      try {
        const msg = await requests.request(subject, built.body);
        const status = msg.headers?.get(ERROR_CODE_HEADER);
        const ok = status || !accept || accept(built, msg.data);
        const dt = performance.now() - t0;
        replies++;
        samples?.push(dt);
        if (sizes.request === 0) {
          sizes.request = built.body.byteLength;
          sizes.reply = msg.data.byteLength;
        }
        if (status) statuses[status] = (statuses[status] ?? 0) + 1;
        else if (!ok) statuses.badreply = (statuses.badreply ?? 0) + 1;
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
  const kind = job.scenario.kind;
  const gen = generator(job.scenario, kind === 'sread1' || kind === 'sreadN' ? await ensureSession() : undefined);
  const sizes = { request: 0, reply: 0 };
  const warm = await drive(gen, () => gen.make(), job.concurrency, job.warmupMs, undefined, {}, sizes);
  let pool: Built[] = [];
  if (job.presign && gen.signs) {
    // Enough for the measured phase at 2 x the warm-up rate (which paid for signing).
    const n = Math.ceil((warm.replies / Math.max(warm.seconds, 0.001)) * (job.durationMs / 1000) * 2) + job.concurrency * 4;
    pool = Array.from({ length: n }, () => gen.make());
  }
  let onTheFly = 0;
  const next = () => {
    const built = pool.pop();
    if (built) return built;
    onTheFly++;
    return gen.make();
  };
  const samples = new Samples();
  const statuses: Record<string, number> = {};
  send({ type: 'phase', id: job.id, phase: 'start' });
  const { seconds } = await drive(gen, next, job.concurrency, job.durationMs, samples, statuses, sizes);
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
      const conn = nc;
      requests = m.natsRequest
        ? { request: (subject, body) => conn.request(subject, body, { timeout: REQUEST_TIMEOUT_MS }), close: () => {} }
        : new Requests(nc, REQUEST_TIMEOUT_MS);
      send({ type: 'ready' });
    } else if (m.type === 'run') {
      try {
        send({ type: 'result', id: m.id, result: await run(m) });
      } catch (err) {
        send({ type: 'failed', id: m.id, error: err instanceof Error ? err.stack ?? err.message : String(err) });
      }
    } else {
      requests?.close();
      await nc?.close();
      process.exit(0);
    }
  })();
});
