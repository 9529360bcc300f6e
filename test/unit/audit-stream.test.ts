/** Creating the audit stream on a NATS cluster: replicas wait for JetStream to place them before one copy is accepted. */
import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from 'nats';
import { describe, expect, it } from 'vitest';
import { ensureStream, replicasFor, streamConfig, weakness } from '../../src/audit/stream.js';

const NO_PEERS = Object.assign(new Error('no suitable peers for placement'), { api_error: { code: 400, err_code: 10005, description: 'no suitable peers for placement' } });
const NOT_FOUND = Object.assign(new Error('stream not found'), { api_error: { code: 404, err_code: 10059, description: 'stream not found' } });

/** A JetStreamManager with no stream whose `add` fails as `failure` says (by attempt and config), else succeeds. */
function fakeJsm(failure: (attempt: number, config: Partial<StreamConfig>) => Error | undefined): { jsm: JetStreamManager; added: Partial<StreamConfig>[] } {
  const added: Partial<StreamConfig>[] = [];
  const jsm = {
    streams: {
      info: () => Promise.reject(NOT_FOUND),
      add: (config: Partial<StreamConfig>) => {
        added.push(config);
        const err = failure(added.length, config);
        return err ? Promise.reject(err) : Promise.resolve({ config });
      },
    },
  } as unknown as JetStreamManager;
  return { jsm, added };
}

const config = streamConfig({ mode: 'jetstream', stream: 'SECRET_SVC_AUDIT', maxAgeSeconds: 3600, maxBytes: 1 << 20 }, 'secret', 3);

describe('audit stream creation', () => {
  it('asks for three replicas on a cluster of three servers, one otherwise', () => {
    expect(replicasFor({ cluster: 'c', connect_urls: ['a', 'b', 'c'] })).toBe(3);
    expect(replicasFor({ cluster: 'c', connect_urls: ['a', 'b'] })).toBe(1);
    expect(replicasFor({ connect_urls: ['a', 'b', 'c'] })).toBe(1);
  });

  it('keeps asking for three replicas while JetStream cannot place them yet (a cluster still joining)', async () => {
    const { jsm, added } = fakeJsm((attempt) => (attempt <= 2 ? NO_PEERS : undefined));
    expect(await ensureStream(jsm, config, true, 10_000)).toBe('created');
    expect(added.map((c) => c.num_replicas)).toEqual([3, 3, 3]);
  });

  it('settles for one replica once the placement wait is over', async () => {
    const { jsm, added } = fakeJsm((_, c) => (c.num_replicas === 3 ? NO_PEERS : undefined));
    expect(await ensureStream(jsm, config, true, 300)).toBe('created with one replica');
    expect(added.at(-1)!.num_replicas).toBe(1);
    expect(added.slice(0, -1).every((c) => c.num_replicas === 3)).toBe(true);
  });

  it('does not retry other JetStream errors of a replicated stream: one copy at once', async () => {
    const other = Object.assign(new Error('subjects overlap'), { api_error: { code: 400, err_code: 10065, description: 'subjects overlap' } });
    const { jsm, added } = fakeJsm((attempt) => (attempt === 1 ? other : undefined));
    expect(await ensureStream(jsm, config, true, 10_000)).toBe('created with one replica');
    expect(added.map((c) => c.num_replicas)).toEqual([3, 1]);
  });
});

describe('a weakened stream (§15)', () => {
  /** The stream as JetStream reports the one the worker creates (limits it does not set: -1). */
  const asCreated = { ...config, max_msgs: -1, max_msgs_per_subject: -1, max_msg_size: -1 } as StreamConfig;

  it('the stream the worker creates, or one with looser limits, is not weakened', () => {
    expect(config).toMatchObject({ deny_delete: true, deny_purge: true });
    expect(weakness(asCreated, config)).toEqual([]);
    expect(weakness({ ...asCreated, max_bytes: -1, max_age: 0, max_msgs: 0 }, config)).toEqual([]);
    expect(weakness({ ...asCreated, max_bytes: 2 << 20, max_age: config.max_age! * 2 }, config)).toEqual([]);
  });

  it.each([
    ['memory storage', { storage: StorageType.Memory }, 'storage is memory, not file'],
    ['work-queue retention', { retention: RetentionPolicy.Workqueue }, 'retention is workqueue, not limits'],
    ['discard new', { discard: DiscardPolicy.New }, 'discard is new'],
    ['deletes allowed', { deny_delete: false }, 'deny_delete is off'],
    ['purges allowed', { deny_purge: false }, 'deny_purge is off'],
    ['a smaller max_bytes', { max_bytes: 1000 }, `max_bytes is 1000, tighter than ${1 << 20}`],
    ['a shorter max_age', { max_age: 1e9 }, `max_age is 1000000000, tighter than ${3600 * 1e9}`],
    ['max_msgs', { max_msgs: 1 }, 'max_msgs is 1, tighter than unlimited'],
    ['max_msgs_per_subject', { max_msgs_per_subject: 5 }, 'max_msgs_per_subject is 5, tighter than unlimited'],
    ['max_msg_size', { max_msg_size: 100 }, 'max_msg_size is 100, tighter than unlimited'],
  ])('%s weakens it', (_label, change, problem) => {
    const problems = weakness({ ...asCreated, ...change } as StreamConfig, config);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(problem);
  });

  it('ensureStream leaves a weakened stream as it is, even at start', async () => {
    const updated: unknown[] = [];
    const jsm = {
      streams: {
        info: () => Promise.resolve({ config: { ...asCreated, max_age: 1e9, storage: StorageType.Memory } }),
        update: (...args: unknown[]) => { updated.push(args); return Promise.resolve({}); },
      },
    } as unknown as JetStreamManager;
    expect(await ensureStream(jsm, config, true)).toBe('weakened, left as it is');
    expect(updated).toEqual([]);
  });
});
