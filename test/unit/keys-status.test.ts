/** `keys status`'s text: the table and the one line on what can be dropped or what to do. */
import { describe, expect, it } from 'vitest';
import { statusText } from '../../src/cli/commands/keys/status.js';

describe('keys status text', () => {
  it('says a drained ring key can be dropped', () => {
    const text = statusText([{ id: 'aaaa0001', inRing: true, values: 12 }, { id: 'bbbb0002', inRing: true, values: 0 }]);
    expect(text).toMatch(/^KEY ID\s+RING\s+VALUES\naaaa0001\s+1 \(seals\)\s+12\nbbbb0002\s+2\s+0\s+can be dropped\n/);
    expect(text).toContain('Every value is under the first key aaaa0001: bbbb0002 can be dropped');
  });

  it('asks for a rewrap while a ring key still seals values', () => {
    const text = statusText([{ id: 'aaaa0001', inRing: true, values: 2 }, { id: 'bbbb0002', inRing: true, values: 7 }]);
    expect(text).toMatch(/bbbb0002\s+2\s+7\s+still needed/);
    expect(text).toContain('7 values are not under the first key aaaa0001: run `secret-svc keys rewrap`.');
    expect(text).not.toContain('can be dropped');
  });

  it('points at keys missing from the ring instead of a rewrap that could not open them', () => {
    const text = statusText([{ id: 'aaaa0001', inRing: true, values: 0 }, { id: 'cccc0003', inRing: false, values: 5 }]);
    expect(text).toMatch(/cccc0003\s+not in ring\s+5\s+cannot be opened by this ring/);
    expect(text).toContain('5 values are sealed by keys not in this ring (cccc0003)');
    expect(text).not.toContain('rewrap');
  });
});
