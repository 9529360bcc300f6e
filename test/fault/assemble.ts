/**
 * A worker's request pipeline without its NATS connection, built from the worker's own
 * openStore (src/worker.ts): for driving RequestPipeline.handle directly.
 */
import type { Op } from '@secret-svc/protocol';
import type { Answer } from '../../src/answer.js';
import { loadConfig, type Config } from '../../src/config.js';
import { Later } from '../../src/later.js';
import { createLogger } from '../../src/log.js';
import { RequestPipeline } from '../../src/pipeline.js';
import { openStore } from '../../src/worker.js';
import { createOperations } from '../../src/ops/index.js';
import { KeyedQueue } from '../../src/ops/keyed-queue.js';
import { TicketBox } from '../../src/session/tickets.js';

export interface Pipeline {
  config: Config;
  /** RequestPipeline.handle; this pipeline holds no watches, so every answer is immediate. */
  handler: { handle(op: Op, body: Uint8Array): Promise<Answer> };
  log: ReturnType<typeof createLogger>;
  close(): void;
}

/** `now`: the pipeline's clock (epoch ms), to play a worker whose clock is off. */
export async function assemblePipeline(env: Record<string, string>, now?: () => number): Promise<Pipeline> {
  const config = loadConfig(env);
  const log = createLogger(config.logLevel);
  const { redis, store, sealer } = await openStore(config, log);
  const maxReplyBytes = () => 1024 * 1024;
  const tickets = new TicketBox(sealer, { audience: config.audience, subjectPrefix: config.subjectPrefix });
  const sessions = { tickets, ttlMs: config.sessionTtlMs, serviceKey: config.serviceKey };
  const runOp = createOperations({ store, maxValueBytes: config.maxValueBytes, writes: new KeyedQueue(), sessions });
  const pipeline = new RequestPipeline({ config, log, runOp, now, maxReplyBytes, tickets });
  const handler = {
    async handle(op: Op, body: Uint8Array): Promise<Answer> {
      const answer = await pipeline.handle(op, body);
      if (answer instanceof Later) throw new Error('a watch was held by a pipeline without a WatchHub');
      return answer;
    },
  };
  return { config, handler, log, close: () => redis.disconnect() };
}
