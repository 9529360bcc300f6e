import { describe, expect, it } from 'vitest';
import { newNonce, open, seal, SEAL_NONCE_BYTES } from '@secret-svc/protocol/internal';

// seal() cuts its nonces from blocks of CSPRNG output (512 per block): across block
// boundaries every nonce must still be new, and every sealed text must still open.
describe('session seal nonces', () => {
  it('never repeats a nonce over several blocks, and each sealed message opens', () => {
    const key = new Uint8Array(32).fill(7);
    const seen = new Set<string>();
    for (let i = 0; i < 1600; i++) {
      const message = Buffer.from(`message ${i}`);
      const sealed = seal(key, message);
      seen.add(sealed.subarray(0, SEAL_NONCE_BYTES).toString('hex'));
      expect(open(key, sealed)?.equals(message)).toBe(true);
    }
    expect(seen.size).toBe(1600);
  });

  it('a sealed text keeps its nonce after later seals (no shared buffer is rewritten)', () => {
    const key = new Uint8Array(32).fill(9);
    const first = seal(key, Buffer.from('first'));
    const nonce = Buffer.from(first.subarray(0, SEAL_NONCE_BYTES));
    for (let i = 0; i < 1100; i++) seal(key, Buffer.from('later'));
    expect(first.subarray(0, SEAL_NONCE_BYTES).equals(nonce)).toBe(true);
    expect(open(key, first)?.toString()).toBe('first');
  });
});

// Request nonces (docs/protocol.md: 18 random bytes, base64url) are cut from blocks the same way.
describe('request nonces', () => {
  it('are 24 base64url characters of 18 bytes and never repeat over several blocks', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1600; i++) {
      const nonce = newNonce();
      expect(nonce).toMatch(/^[A-Za-z0-9_-]{24}$/);
      expect(Buffer.from(nonce, 'base64url').length).toBe(18);
      seen.add(nonce);
    }
    expect(seen.size).toBe(1600);
  });
});
