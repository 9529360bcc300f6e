/**
 * The CLI's configuration: flags first, then the environment (NATS_URL, SECRET_SVC_CREDENTIAL or
 * SECRET_SVC_CREDENTIAL_FILE, SECRET_SVC_KEY_FILE, SECRET_SVC_SUBJECT_PREFIX, SECRET_SVC_AUDIENCE).
 */
import type { Command } from 'commander';
import type { ConnectionOptions } from 'nats';
import { natsAuthOptions } from '../nats-auth.js';
import { loadIdentity, SecretClient, type Identity } from '@secret-svc/client';
import { DEFAULT_AUDIENCE, DEFAULT_NATS_URL, DEFAULT_SUBJECT_PREFIX } from '@secret-svc/protocol';
import { UsageError } from './exit.js';

export interface GlobalOptions {
  natsUrl?: string;
  credentialFile?: string;
  keyFile?: string;
  timeout?: string;
  subjectPrefix?: string;
  audience?: string;
}

export interface CliConfig {
  servers: string[];
  subjectPrefix: string;
  audience: string;
  timeoutMs: number;
  /** NATS login and TLS, from the same variables the worker reads (NATS_CREDS, NATS_USER, ...). */
  natsAuth: Partial<ConnectionOptions>;
}

const env = (name: string): string | undefined => {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : v;
};

export function cliConfig(cmd: Command): CliConfig {
  const o = cmd.optsWithGlobals<GlobalOptions>();
  const timeoutMs = Number(o.timeout ?? 5000);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new UsageError(`--timeout must be a positive number of milliseconds`);
  return {
    servers: (o.natsUrl ?? env('NATS_URL') ?? DEFAULT_NATS_URL).split(',').map((s) => s.trim()).filter(Boolean),
    subjectPrefix: o.subjectPrefix ?? env('SECRET_SVC_SUBJECT_PREFIX') ?? DEFAULT_SUBJECT_PREFIX,
    audience: o.audience ?? env('SECRET_SVC_AUDIENCE') ?? DEFAULT_AUDIENCE,
    timeoutMs,
    natsAuth: cliNatsAuth(),
  };
}

function cliNatsAuth(): Partial<ConnectionOptions> {
  try {
    return natsAuthOptions(process.env);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The caller's credential and key; any problem with them is a usage error (exit 2). */
export function cliIdentity(cmd: Command): Identity {
  const o = cmd.optsWithGlobals<GlobalOptions>();
  const credentialFile = o.credentialFile ?? env('SECRET_SVC_CREDENTIAL_FILE');
  const credential = o.credentialFile ? undefined : env('SECRET_SVC_CREDENTIAL');
  const keyFile = o.keyFile ?? env('SECRET_SVC_KEY_FILE');
  if (!credential && !credentialFile) {
    throw new UsageError('no credential: set SECRET_SVC_CREDENTIAL_FILE (or SECRET_SVC_CREDENTIAL) or pass --credential-file');
  }
  if (!keyFile) throw new UsageError('no private key: set SECRET_SVC_KEY_FILE or pass --key-file');
  try {
    return loadIdentity(credential ? { credential, keyFile } : { credentialFile, keyFile });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Connects, runs `fn`, and always closes the connection. */
export async function withClient<T>(cmd: Command, fn: (client: SecretClient) => Promise<T>): Promise<T> {
  const config = cliConfig(cmd);
  const identity = cliIdentity(cmd);
  const client = await SecretClient.connect({
    servers: config.servers,
    identity,
    subjectPrefix: config.subjectPrefix,
    audience: config.audience,
    timeoutMs: config.timeoutMs,
    // Fail fast when NATS is not there instead of reconnecting forever.
    natsOptions: { ...config.natsAuth, maxReconnectAttempts: 0, timeout: Math.max(config.timeoutMs, 5000) },
  });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
