/** The reply step's audit gate (docs/protocol.md §11) against a recording fake trail. */
import { describe, expect, it } from 'vitest';
import { decodeBody, encodeBody, NotFoundError, UnavailableError, type Encoding } from '@secret-svc/protocol';
import { answerOf, type Answer } from '../../src/answer.js';
import { AuditedReplies, buildEvent, mustWait, type AuditFacts, type AuditTrail } from '../../src/audit/index.js';
import { createLogger } from '../../src/log.js';

class FakeTrail implements AuditTrail {
  readonly mode = 'jetstream' as const;
  waited: AuditFacts[] = [];
  /** The `applied` flag of every recordAndWait call, in order. */
  applied: boolean[] = [];
  recorded: AuditFacts[] = [];
  fail = false;
  full = false;
  async start(): Promise<void> {}
  setWorker(): void {}
  async recordAndWait(facts: AuditFacts, applied = false): Promise<void> {
    this.applied.push(applied);
    if (this.fail) throw new UnavailableError('audit trail unavailable: the event could not be stored within 2 s');
    this.waited.push(facts);
  }
  record(facts: AuditFacts): void { this.recorded.push(facts); }
  isFull(): boolean { return this.full; }
  pending(): number { return 0; }
  async stop(): Promise<void> {}
}

const caller = { slug: 'deploy-svc', admin: false, issuer: 'iss', keyId: 'K'.repeat(43), jti: null, issuedAtMs: null, expiresAtMs: null };
const DECIDED = Date.parse('2026-05-12T10:00:00.000Z');

type Op = Answer['op'];

function success(op: string, extra: Partial<Answer> = {}, encoding: Encoding = 'json'): Answer {
  const answer = answerOf(op as Op, { encoding, caller, request: { key: 'deploy-svc/DB' } as never }, {
    body: encodeBody({ value: 'VALUE-NEVER-LOGGED', version: 3 }, encoding), error: undefined, decidedAtMs: DECIDED, result: { version: 3 },
  });
  return { ...answer, ...extra };
}

/** The facts of `a` as the trail keeps them (buildEvent: only the §11 fields), without `v` and `worker`. */
function factsIn(a: AuditFacts): AuditFacts {
  const { v: _v, worker: _w, time, ...rest } = buildEvent(a, 'w');
  return { ...rest, time: new Date(time) };
}

const log = createLogger('silent');

describe('mustWait: replies that carry a value or confirm a change', () => {
  it.each(['read', 'create', 'update', 'delete', 'revoke', 'unrevoke'])('%s 200 waits', (op) => {
    expect(mustWait({ op: op as Op, status: 200 })).toBe(true);
  });
  it.each(['list', 'whoami', 'versions', 'revocations', 'session'])('%s 200 does not', (op) => {
    expect(mustWait({ op: op as Op, status: 200 })).toBe(false);
  });
  it('an error reply does not', () => {
    expect(mustWait({ op: 'read', status: 404 })).toBe(false);
    expect(mustWait({ op: 'update', status: 409 })).toBe(false);
  });
});

describe('answerOf: the audit facts of an answer', () => {
  it('takes only the §11 fields: when decided, who, what, version; leaves out a null jti', () => {
    expect(factsIn(success('read'))).toEqual({
      op: 'read', status: 200, time: new Date(DECIDED), slug: 'deploy-svc', admin: false, keyId: 'K'.repeat(43), key: 'deploy-svc/DB', version: 3,
    });
  });
  it('an error: its code; a jti, a session and a selector when present', () => {
    const error = new NotFoundError('unrevoke: no such entry');
    const facts = factsIn(answerOf('unrevoke', {
      encoding: 'json', caller: { ...caller, admin: true, jti: 'j1' }, request: { jti: 'abc' } as never, session: true,
    }, { body: new Uint8Array(), error, decidedAtMs: DECIDED }));
    expect(facts).toEqual({
      op: 'unrevoke', status: 404, code: 'not_found', time: new Date(DECIDED), slug: 'deploy-svc', admin: true, keyId: 'K'.repeat(43), jti: 'j1',
      session: true, selector: { jti: 'abc' },
    });
  });
});

describe('AuditedReplies.settle', () => {
  it('releases a value only after its event is acknowledged', async () => {
    const trail = new FakeTrail();
    const outcome = success('read');
    expect(await new AuditedReplies(trail, log).settle(outcome)).toBe(outcome);
    expect(trail.waited).toHaveLength(1);
    expect(trail.recorded).toHaveLength(0);
  });

  it('records other replies without waiting', async () => {
    const trail = new FakeTrail();
    trail.fail = true; // would refuse a wait
    const list = success('list', { key: undefined, prefix: 'deploy-svc/', count: 2 });
    expect(await new AuditedReplies(trail, log).settle(list)).toBe(list);
    expect(trail.recorded).toEqual([expect.objectContaining({ op: 'list', status: 200, count: 2, prefix: 'deploy-svc/' })]);
  });

  it.each(['json', 'msgpack'] as const)('answers 503 instead when the event cannot be stored, and records that 503 (%s)', async (encoding) => {
    const trail = new FakeTrail();
    trail.fail = true;
    const sent = await new AuditedReplies(trail, log, () => DECIDED + 2000).settle(success('update', {}, encoding));
    expect(sent).toMatchObject({ op: 'update', status: 503, encoding, slug: caller.slug, keyId: caller.keyId, key: 'deploy-svc/DB' });
    expect(sent.version).toBeUndefined();
    expect(sent.error).toBeInstanceOf(UnavailableError);
    const body = decodeBody(sent.body, encoding) as { error: { status: number; code: string } };
    expect(body.error).toMatchObject({ status: 503, code: 'unavailable' });
    expect(JSON.stringify(body)).not.toContain('VALUE-NEVER-LOGGED');
    expect(trail.recorded.map(factsIn)).toEqual([{
      op: 'update', status: 503, code: 'unavailable', time: new Date(DECIDED + 2000), slug: 'deploy-svc', admin: false, keyId: 'K'.repeat(43), key: 'deploy-svc/DB',
    }]);
  });
});

describe('an applied write is recorded as applied (§15)', () => {
  it.each(['create', 'update', 'delete', 'revoke', 'unrevoke'])('%s: its event is handed over as applied (kept until stored)', async (op) => {
    const trail = new FakeTrail();
    trail.fail = true;
    await new AuditedReplies(trail, log).settle(success(op));
    expect(trail.applied).toEqual([true]);
  });

  it('a read is not: its value never left, so only the 503 is recorded', async () => {
    const trail = new FakeTrail();
    trail.fail = true;
    await new AuditedReplies(trail, log).settle(success('read'));
    expect(trail.applied).toEqual([false]);
  });
});

describe('AuditedReplies.intake', () => {
  it('refuses a new request with 503 while the trail is full', () => {
    const trail = new FakeTrail();
    const gate = new AuditedReplies(trail, log);
    expect(() => gate.intake()).not.toThrow();
    trail.full = true;
    expect(() => gate.intake()).toThrow(UnavailableError);
  });
});
