/** What the orchestrator (run.ts) and a load generator (load.ts) say to each other over IPC. */
import type { PrivateJwk } from '@secret-svc/protocol';
import type { Summary } from './stats.js';

export interface Identity {
  slug: string;
  credential: string;
  key: PrivateJwk;
}

export type Scenario =
  /** Plain request-reply: `body` sized like a read envelope, answered by bench/echo.ts. */
  | { kind: 'echo'; subject: string; bodyBytes: number }
  | { kind: 'whoami' }
  | { kind: 'read1'; keys: string[] }
  | { kind: 'readN'; keys: string[]; perRequest: number }
  /** Reads through a session (docs/protocol.md §12): sealed and MACed live, each reply opened and checked. */
  | { kind: 'sread1'; keys: string[] }
  | { kind: 'sreadN'; keys: string[]; perRequest: number }
  | { kind: 'list'; cursors: (string | null)[]; limit: number }
  | { kind: 'update'; keys: string[]; valueBytes: number }
  | { kind: 'create'; keyPrefix: string; valueBytes: number }
  /** Well-formed envelopes with a valid credential and a random (bad) signature: each must get 401. */
  | { kind: 'badsig' }
  /** Signed `session` requests that all carry one `epk`: a handshake flood that costs the sender nothing per request. */
  | { kind: 'handshake' };

export interface LoadInit {
  type: 'init';
  natsUrl: string;
  subjectPrefix: string;
  audience: string;
  encoding: 'json' | 'msgpack';
  identity: Identity;
  /** Request-reply through nats.js' own nc.request() (--nats-request), as most clients do, instead of the lean one. */
  natsRequest?: boolean;
}

export interface RunJob {
  type: 'run';
  id: number;
  scenario: Scenario;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Pre-sign envelopes for the measured phase (the default); else sign each on the fly. */
  presign: boolean;
}

export interface RunResult extends Summary {
  /** Envelopes signed during the measured phase because the pre-signed pool ran out. */
  signedOnTheFly: number;
  /** Request and reply sizes of the first request (bytes). */
  requestBytes: number;
  replyBytes: number;
  /** Error replies by status (expected ones included, e.g. 401 for badsig). */
  statuses: Record<string, number>;
  /** CPU time per request in the measured phase, microseconds, by process role (filled in by run.ts). */
  cpuMicrosPerRequest?: Record<string, number>;
}

export type ToLoad = LoadInit | RunJob | { type: 'exit' };
export type FromLoad =
  | { type: 'ready' }
  /** Sent as the measured phase starts and ends, so the orchestrator can read CPU counters. */
  | { type: 'phase'; id: number; phase: 'start' | 'end' }
  | { type: 'result'; id: number; result: RunResult }
  | { type: 'failed'; id: number; error: string };
