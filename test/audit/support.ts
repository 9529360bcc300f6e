/** Shared pieces of the audit tests: a NATS connection, a trail on it, and reading the stream back. */
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import { createLogger } from '../../src/log.js';
import { createAuditTrail, type AuditEvent, type AuditSettings, type AuditTrail, type AuditTrailOptions } from '../../src/audit/index.js';
import { DEFAULT_AUDIT_MAX_AGE_SECONDS, DEFAULT_AUDIT_MAX_BYTES } from '../../src/audit/settings.js';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function settings(extra: Partial<AuditSettings> = {}): AuditSettings {
  return { mode: 'jetstream', stream: 'SECRET_SVC_AUDIT', maxAgeSeconds: DEFAULT_AUDIT_MAX_AGE_SECONDS, maxBytes: DEFAULT_AUDIT_MAX_BYTES, ...extra };
}

export async function natsConnection(url: string): Promise<NatsConnection> {
  return connect({ servers: url, noAsyncTraces: true, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
}

export function trailOn(nc: NatsConnection, s: AuditSettings = settings(), o: Partial<AuditTrailOptions> = {}): AuditTrail {
  return createAuditTrail(nc, s, { subjectPrefix: 'secret', log: createLogger('silent'), ...o });
}

export interface StoredEvent {
  subject: string;
  event: AuditEvent;
  raw: string;
}

/** Every message of the stream, oldest first ([] when there is no stream). */
export async function storedEvents(jsm: JetStreamManager, stream = 'SECRET_SVC_AUDIT'): Promise<StoredEvent[]> {
  let state;
  try {
    state = (await jsm.streams.info(stream)).state;
  } catch {
    return [];
  }
  const out: StoredEvent[] = [];
  if (state.messages === 0) return out;
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
    if (!m) continue;
    const raw = Buffer.from(m.data).toString('utf8');
    out.push({ subject: m.subject, event: JSON.parse(raw) as AuditEvent, raw });
  }
  return out;
}

/** Polls `check` until it holds (or throws after `timeoutMs`): for what happens in the background. */
export async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (!(await Promise.resolve().then(check).catch((err: unknown) => { lastError = err; return false; }))) {
    if (Date.now() > deadline) {
      // The last failure says why (a JetStream API timing out, or answering but not yet as wanted).
      throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    }
    await sleep(50);
  }
}

/** NATS logins as named users of one server (`url()` once it runs); closeAll() closes every one made. */
export function natsLogins(url: () => string): { login: (user: string, pass: string, inboxPrefix?: string) => Promise<NatsConnection>; closeAll: () => Promise<unknown> } {
  const opened: NatsConnection[] = [];
  return {
    async login(user, pass, inboxPrefix) {
      const nc = await connect({ servers: url(), user, pass, noAsyncTraces: true, ...(inboxPrefix ? { inboxPrefix } : {}) });
      opened.push(nc);
      return nc;
    },
    closeAll: () => Promise.allSettled(opened.map((nc) => nc.close())),
  };
}
