import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sealer } from '../../src/store/seal.js';

// recordMac hashes all parts in one buffer; stored records were MACed part by part. Both must
// give the same bytes: HMAC(macKey, for each part: u32be(length) || part), cut to 16 bytes.
function reference(macKey: Buffer, parts: (string | Buffer)[]): Buffer {
  const h = createHmac('sha256', macKey);
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    h.update(length).update(bytes);
  }
  return h.digest().subarray(0, 16);
}

describe('record MAC', () => {
  it('is the part-by-part definition, for any lengths and non-ASCII text', () => {
    const key = randomBytes(32);
    const sealer = new Sealer(new Uint8Array(key));
    const sealed = sealer.seal('binding', 'value');
    const macKey = Buffer.from(hkdfSync('sha256', key, '', 'secret-svc record mac', 32));
    for (let i = 0; i < 100; i++) {
      const parts = ['secret-svc record v1', `team/é${'x'.repeat(i * 3)}`, String(i + 1), 'a,b|c|d', 'lz0 ü', randomBytes(8).toString('hex'), '', sealed.subarray(0, 45)];
      expect(sealer.recordMac(sealed, parts).equals(reference(macKey, parts))).toBe(true);
    }
  });
});
