/**
 * A session read's byte budget (src/session/reply.ts): the largest encoded reply that still
 * fits the bus once sealed, decided before any value is opened.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeBody, sealSessionReply, type Encoding } from '@secret-svc/protocol/internal';
import { largestSealableReply, sealedReplyBytes } from '../../src/session/reply.js';

describe.each<Encoding>(['json', 'msgpack'])('largestSealableReply (%s)', (encoding) => {
  it.each([1024, 65_536, 1024 * 1024, 8 * 1024 * 1024])('a reply of the budget for %i bytes seals to at most that', (max) => {
    const budget = largestSealableReply(max, encoding);
    expect(budget).toBeGreaterThan(max / 2);
    expect(sealedReplyBytes(budget, encoding)).toBeLessThanOrEqual(max);
    // One byte more would not be guaranteed to fit.
    expect(sealedReplyBytes(budget + 4, encoding)).toBeGreaterThan(max);
  });

  it('bounds real sealed replies', () => {
    const reply = encodeBody({ key: 'app/K', value: 'x'.repeat(5000) }, encoding);
    const sealed = sealSessionReply(randomBytes(32), randomBytes(32), reply, encoding);
    expect(sealed.byteLength).toBeLessThanOrEqual(sealedReplyBytes(reply.byteLength, encoding));
    expect(largestSealableReply(sealed.byteLength, encoding)).toBeLessThanOrEqual(reply.byteLength);
  });
});
