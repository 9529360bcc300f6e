/** One function per operation, keyed by op. */
import type { Op, RequestOf } from '@secret-svc/protocol';
import type { OpContext } from './context.js';
import { create } from './create.js';
import { remove } from './delete.js';
import { list } from './list.js';
import { read } from './read.js';
import { update } from './update.js';
import { whoami } from './whoami.js';

type Operation<O extends Op> = (ctx: OpContext, req: RequestOf<O>) => Promise<object>;

export const operations: { [O in Op]: Operation<O> } = { whoami, read, list, create, update, delete: remove };

export type { OpContext } from './context.js';
