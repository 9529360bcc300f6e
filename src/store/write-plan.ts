/**
 * What an operation asks the store to write, in domain terms (key, value, lists, caller):
 * the store turns a plan into sealed values, the record MAC and write.lua's arguments.
 */
import type { ConflictError, DeleteReply, SecretMetadata, SecretSvcError } from '@secret-svc/protocol';
import type { Acl } from '../policy.js';
import type { StoredRecord } from './record.js';

interface PlanBase {
  key: string;
  /** The caller's slug (stamps) and the time of the write. */
  by: string;
  atMs: number;
}

export interface CreatePlan extends PlanBase {
  mode: 'create';
  value: string;
  acl: Acl;
  reply: SecretMetadata;
  conflict: ConflictError;
}

export interface UpdatePlan extends PlanBase {
  mode: 'update';
  /** The record the update was decided on: the write applies only if it is still current. */
  from: StoredRecord;
  /** The new value, or undefined to keep the current one (as a new version). */
  value: string | undefined;
  acl: Acl;
  ifVersion: number | undefined;
  reply: SecretMetadata;
  conflict: ConflictError;
}

export interface DeletePlan extends PlanBase {
  mode: 'delete';
  from: StoredRecord;
  ifVersion: number | undefined;
  reply: DeleteReply;
  conflict: ConflictError;
}

/** A refusal, stored with the nonce so that a resent request gets it again. */
export interface RejectPlan extends PlanBase {
  mode: 'reject';
  error: SecretSvcError;
}

export type WritePlan = CreatePlan | UpdatePlan | DeletePlan | RejectPlan;

/** The reply type each plan produces. */
export type ReplyOf<P extends WritePlan> = P extends CreatePlan | UpdatePlan ? SecretMetadata : P extends DeletePlan ? DeleteReply : never;
