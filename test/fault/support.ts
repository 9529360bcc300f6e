/**
 * Shared pieces of the fault and fuzz tests: raw requests with exact reply decoding, load
 * loops that count every request and its reply, and small process probes.
 */
import { readFileSync } from 'node:fs';
import { headers as natsHeaders, type NatsConnection } from 'nats';
import { Redis } from 'ioredis';
import {
  buildEnvelope, decodeBody, privateKeyObject, requestHead, type Encoding, type Op,
} from '@secret-svc/protocol';
import type { TestCaller } from '../helpers/identities.js';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Reply {
  /** 200 for a success, else the Nats-Service-Error-Code header's number. */
  status: number;
  body: unknown;
  data: Uint8Array;
}

/** A signed envelope for `op` with a fresh head. */
export function signed(caller: TestCaller, op: Op, fields: object, encoding: Encoding, aud = 'secret-svc'): Uint8Array {
  return buildEnvelope(caller.credential, privateKeyObject(caller.key), { ...requestHead(op, aud), ...fields }, encoding);
}

/** One raw request; rejects only when no reply comes (timeout, no responders). */
export async function rawRequest(nc: NatsConnection, subject: string, body: Uint8Array, timeoutMs = 5000): Promise<Reply> {
  const msg = await nc.request(subject, body, { timeout: timeoutMs, headers: natsHeaders() });
  const code = msg.headers?.get('Nats-Service-Error-Code');
  let decoded: unknown;
  try {
    decoded = decodeBody(msg.data, msg.data[0] === 0x7b ? 'json' : 'msgpack');
  } catch {
    decoded = undefined;
  }
  return { status: code ? Number(code) : 200, body: decoded, data: msg.data };
}

/** Counts of a load run: every request sent, every reply by status, every request without one. */
export class Tally {
  sent = 0;
  answered = 0;
  unanswered = 0;
  byStatus: Record<number, number> = {};
  /** Failures other than a missing reply (e.g. wrong value); each is a short description. */
  wrong: string[] = [];

  count(status: number): void {
    this.answered++;
    this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
  }

  summary(): string {
    const statuses = Object.entries(this.byStatus).map(([s, n]) => `${s}: ${n}`).join(', ');
    return `sent ${this.sent} / answered ${this.answered} (${statuses}; no reply: ${this.unanswered})`;
  }
}

/** Runs `workers` loops of `step` until stop() is called; stop() resolves when all loops ended. */
export function runLoad(workers: number, step: (loop: number, i: number) => Promise<void>): { stop(): Promise<void> } {
  let running = true;
  const loops = Array.from({ length: workers }, async (_, loop) => {
    for (let i = 0; running; i++) await step(loop, i);
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Polls until `check` resolves true; bounded, never a timing assertion. */
export async function waitUntil(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000, stepMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await Promise.resolve().then(check).catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(stepMs);
  }
}

/** Resident set size of a process in bytes (Linux /proc). */
export function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  if (!line) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(/(\d+)/.exec(line)![1]) * 1024;
}

/** A direct Redis connection for the test itself (pausing, inspecting). */
export function adminRedis(url: string): Redis {
  const r = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: false });
  r.on('error', () => {});
  return r;
}

export const MB = 1024 * 1024;
