/** Reply shapes (docs/protocol.md §4). */

export interface SecretMetadata {
  key: string;
  readers: string[];
  writers: string[];
  deleters: string[];
  version: number;
  createdAt: string;
  updatedAt: string;
  createdBy: string;
  updatedBy: string;
}

export interface Secret extends SecretMetadata {
  value: string;
}

export interface WhoamiReply {
  slug: string;
  admin: boolean;
  issuer: string;
  expiresAt: string | null;
}

export interface ReadManyReply {
  secrets: Secret[];
  missing: string[];
  denied: string[];
}

export interface ListReply {
  secrets: SecretMetadata[];
  cursor: string | null;
}

export interface DeleteReply {
  key: string;
  deleted: true;
}

/** One kept version of a secret (docs/protocol.md §9). */
export interface VersionInfo {
  version: number;
  updatedAt: string;
  updatedBy: string;
}

export interface VersionsReply {
  key: string;
  /** The kept versions, newest first. */
  versions: VersionInfo[];
}

/** What a change did (docs/protocol.md §14); `delete` also when the caller lost the read right. */
export type ChangeOp = 'create' | 'update' | 'delete';

/** One change a watch reports: `version` after the change (absent for `delete`), its revision and time. */
export interface WatchChange {
  key: string;
  op: ChangeOp;
  version?: number;
  rev: number;
  at: string;
}

/** The reply to `watch`: informed up to `rev`; `reset` means changes were missed (re-read everything). */
export interface WatchReply {
  rev: number;
  changes: WatchChange[];
  reset: boolean;
}
