/**
 * The client uses sessions by default (docs/protocol.md §12) against the real worker: one handshake
 * on `<prefix>.session` for many calls, and a passive subscriber on `>` (every subject,
 * requests and replies) never sees a value — while with `sessions: false` it does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Subscription } from 'nats';
import type { Encoding } from '@secret-svc/protocol';
import { startStack, type Stack } from '../../test/helpers/stack.js';

let stack: Stack;
let wire: Subscription;
/** Every message on the bus: subject and bytes. */
const seen: { subject: string; data: Buffer }[] = [];

beforeAll(async () => {
  stack = await startStack();
  wire = stack.nc.subscribe('>', { callback: (_err, msg) => seen.push({ subject: msg.subject, data: Buffer.from(msg.data) }) });
});
afterAll(async () => {
  wire?.unsubscribe();
  await stack?.stop();
});

/** What the bus carried while `fn` ran (flushed: everything the calls caused has arrived). */
async function traffic(fn: () => Promise<void>): Promise<{ subject: string; data: Buffer }[]> {
  const from = seen.length;
  await fn();
  await stack.nc.flush();
  return seen.slice(from);
}

const carries = (msgs: { data: Buffer }[], marker: string) => msgs.some((m) => m.data.includes(Buffer.from(marker)));

describe.each(['msgpack', 'json'] as Encoding[])('a client with default options (%s)', (encoding) => {
  it('opens one session for many calls, and no value crosses the bus in the clear', async () => {
    const slug = `sess-${encoding}`;
    const marker = `marker-${encoding}-3f9a1c`;
    const updated = `${marker}-updated`;
    const client = await stack.client(stack.issuer.caller(slug), encoding);
    const msgs = await traffic(async () => {
      await client.create(`${slug}/A`, marker);
      await client.update(`${slug}/A`, { value: updated });
      await client.create(`${slug}/B`, marker);
      const reads = await Promise.all(Array.from({ length: 30 }, () => client.read(`${slug}/A`)));
      expect(reads.every((r) => r.value === updated)).toBe(true);
      for (let i = 0; i < 10; i++) expect((await client.read(`${slug}/B`)).value).toBe(marker);
      const many = await client.readMany([`${slug}/A`, `${slug}/B`]);
      expect(many.secrets.map((s) => s.value).sort()).toEqual([marker, updated].sort());
      expect((await client.list({ prefix: `${slug}/` })).secrets).toHaveLength(2);
    });
    expect(client.signedOnly).toBe(false);
    expect(msgs.filter((m) => m.subject === 'secret.session')).toHaveLength(1);
    expect(msgs.filter((m) => m.subject === 'secret.read').length).toBeGreaterThanOrEqual(41);
    expect(carries(msgs, marker)).toBe(false);
    expect(carries(msgs, updated)).toBe(false);
  });

  it('with sessions: false the same calls are signed and the bus carries the value (what sessions prevent)', async () => {
    const slug = `signed-${encoding}`;
    const marker = `marker-${encoding}-77e2b0`;
    const client = await stack.client(stack.issuer.caller(slug), encoding, { sessions: false });
    const msgs = await traffic(async () => {
      await client.create(`${slug}/A`, marker);
      expect((await client.read(`${slug}/A`)).value).toBe(marker);
    });
    expect(client.signedOnly).toBe(true);
    expect(msgs.filter((m) => m.subject === 'secret.session')).toHaveLength(0);
    expect(carries(msgs, marker)).toBe(true);
  });
});
