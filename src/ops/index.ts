/** The operations, one file each, and their typed dispatcher. */
import type { Op } from '@secret-svc/protocol';
import type { OpDeps, Operation, RunOp } from './context.js';
import { create } from './create.js';
import { remove } from './delete.js';
import { list } from './list.js';
import { read } from './read.js';
import { revocations } from './revocations.js';
import { revoke } from './revoke.js';
import { unrevoke } from './unrevoke.js';
import { session } from './session.js';
import { update } from './update.js';
import { versions } from './versions.js';
import { watch } from './watch.js';
import { whoami } from './whoami.js';

const operations: { [O in Op]: Operation<O> } = {
  whoami, read, list, create, update, delete: remove, versions, revoke, unrevoke, revocations, session, watch,
};

export function createOperations(deps: OpDeps): RunOp {
  return (op, ctx, request) => {
    const run: Operation<typeof op> = operations[op];
    return run(deps, ctx, request);
  };
}

export type { OpDeps, RequestContext, RunOp } from './context.js';
