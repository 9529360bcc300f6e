/**
 * A worker's request pipeline without its NATS connection, built from the worker's own
 * openStore (src/worker.ts): for driving RequestPipeline.handle directly.
 */
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { RequestPipeline } from '../../src/pipeline.js';
import { openStore } from '../../src/worker.js';
import { createOperations } from '../../src/ops/index.js';
import { KeyedQueue } from '../../src/ops/keyed-queue.js';
import { TicketBox } from '../../src/session/tickets.js';

export interface Pipeline {
  config: Config;
  handler: RequestPipeline;
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
  const handler = new RequestPipeline({ config, log, runOp, now, maxReplyBytes, tickets });
  return { config, handler, log, close: () => redis.disconnect() };
}
