/** Server URLs in client error messages never carry a NATS password or token. */
import { describe, expect, it } from 'vitest';
import { withoutPassword } from '../src/connection.js';

describe('withoutPassword', () => {
  it.each([
    ['nats://svc:s3cret@10.0.0.1:4222', 'nats://svc:***@10.0.0.1:4222'],
    ['tls://svc:p%40ss@nats.example:4222', 'tls://svc:***@nats.example:4222'],
    ['nats://s3cret-token@10.0.0.1:4222', 'nats://***@10.0.0.1:4222'],
    ['nats://127.0.0.1:4222', 'nats://127.0.0.1:4222'],
    ['127.0.0.1:4222', '127.0.0.1:4222'],
  ])('%s → %s', (url, shown) => {
    expect(withoutPassword(url)).toBe(shown);
    expect(withoutPassword(url)).not.toContain('s3cret');
  });
});
