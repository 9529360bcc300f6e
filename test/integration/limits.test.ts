/** Replies that would not fit on the bus: an error reply, never silence. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TooLargeError } from '@secret-svc/protocol';
import { startStack, type Stack } from '../helpers/stack.js';
import { ENCODINGS } from '../helpers/wire.js';

let stack: Stack;
beforeAll(async () => { stack = await startStack(); });
afterAll(async () => { await stack?.stop(); });

describe.each(ENCODINGS)('a reply over the NATS max_payload (%s)', (encoding) => {
  it('gets 413 too_large naming the limit, and smaller reads still work', async () => {
    const c = await stack.client(stack.issuer.caller(`big-${encoding}`), encoding);
    const keys = Array.from({ length: 20 }, (_, i) => `big-${encoding}/K${i}`);
    const value = 'v'.repeat(65_536); // the largest value allowed by default
    for (const key of keys) await c.create(key, value);
    const maxPayload = stack.worker.nc.info!.max_payload;
    expect(20 * value.length).toBeGreaterThan(maxPayload);

    const err = await c.readMany(keys).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TooLargeError);
    expect((err as TooLargeError).message).toContain(String(maxPayload));
    expect((err as TooLargeError).message).not.toContain(value.slice(0, 64));

    const some = await c.readMany(keys.slice(0, 5));
    expect(some.secrets.map((s) => s.value.length)).toEqual([65_536, 65_536, 65_536, 65_536, 65_536]);
  });
});
