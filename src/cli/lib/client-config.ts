/**
 * The CLI's configuration: flags first, then the environment — the same variables
 * SecretClient.fromEnv reads (NATS_URL, SECRET_SVC_CREDENTIAL or SECRET_SVC_CREDENTIAL_FILE,
 * SECRET_SVC_KEY_FILE, SECRET_SVC_SUBJECT_PREFIX, SECRET_SVC_AUDIENCE, SECRET_SVC_SERVICE_PUBLIC_KEY,
 * NATS login settings).
 */
import type { Command } from 'commander';
import type { ConnectionOptions } from 'nats';
import { IdentityError, loadIdentity, optionsFromEnv, SecretClient, type EnvOptions, type Identity } from '@secret-svc/client';
import { DEFAULT_AUDIENCE, DEFAULT_SUBJECT_PREFIX, publicKeyProblem } from '@secret-svc/protocol';
import { UsageError } from './exit-codes.js';
import { streams } from './streams.js';

export interface GlobalOptions {
  natsUrl?: string;
  credentialFile?: string;
  keyFile?: string;
  timeout?: string;
  subjectPrefix?: string;
  audience?: string;
  /** false with --no-sessions. */
  sessions?: boolean;
  servicePublicKey?: string;
}

export interface CliConfig {
  servers: string[];
  subjectPrefix: string;
  audience: string;
  timeoutMs: number;
  /** Sessions (the client's default), unless --no-sessions. */
  sessions: boolean;
  /** The service public key to pin (--service-public-key, SECRET_SVC_SERVICE_PUBLIC_KEY). */
  servicePublicKey: string | undefined;
  /** NATS login and TLS, from the same variables the worker reads (NATS_CREDS, NATS_USER, ...). */
  natsAuth: Partial<ConnectionOptions>;
}

function fromEnv(): EnvOptions {
  try {
    return optionsFromEnv(streams().env);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function cliConfig(cmd: Command): CliConfig {
  const o = cmd.optsWithGlobals<GlobalOptions>();
  const e = fromEnv();
  const timeoutMs = Number(o.timeout ?? 5000);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new UsageError(`--timeout must be a positive number of milliseconds`);
  return {
    servers: o.natsUrl ? o.natsUrl.split(',').map((s) => s.trim()).filter(Boolean) : e.servers,
    subjectPrefix: o.subjectPrefix ?? e.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX,
    audience: o.audience ?? e.audience ?? DEFAULT_AUDIENCE,
    timeoutMs,
    sessions: o.sessions !== false,
    servicePublicKey: servicePublicKey(o.servicePublicKey, e.servicePublicKey),
    natsAuth: e.natsOptions,
  };
}

/** The pinned service key, checked here so that a bad one is a usage error naming its setting. */
function servicePublicKey(flag: string | undefined, env: string | undefined): string | undefined {
  const [text, source] = flag !== undefined ? [flag.trim(), '--service-public-key'] : [env, 'SECRET_SVC_SERVICE_PUBLIC_KEY'];
  if (text === undefined) return undefined;
  const problem = publicKeyProblem(text);
  if (problem !== undefined) throw new UsageError(`${source}: not a usable Ed25519 public key (${problem})`);
  return text;
}

/** Whether a credential is configured at all (completion lists keys only then). */
export function hasIdentity(cmd: Command): boolean {
  const o = cmd.optsWithGlobals<GlobalOptions>();
  const e = fromEnv();
  return Boolean((o.credentialFile ?? e.credential ?? e.credentialFile) && (o.keyFile ?? e.keyFile));
}

/** The caller's credential and key; any problem with them is a usage error (exit 2) naming the setting. */
export function cliIdentity(cmd: Command): Identity {
  const o = cmd.optsWithGlobals<GlobalOptions>();
  const e = fromEnv();
  const credentialFile = o.credentialFile ?? e.credentialFile;
  const credential = o.credentialFile ? undefined : e.credential;
  const keyFile = o.keyFile ?? e.keyFile;
  if (!credential && !credentialFile) {
    throw new UsageError('no credential: set SECRET_SVC_CREDENTIAL_FILE (or SECRET_SVC_CREDENTIAL) or pass --credential-file');
  }
  if (!keyFile) throw new UsageError('no private key: set SECRET_SVC_KEY_FILE or pass --key-file');
  const sources = {
    credentialFile: o.credentialFile ? '--credential-file' : 'SECRET_SVC_CREDENTIAL_FILE',
    keyFile: o.keyFile ? '--key-file' : 'SECRET_SVC_KEY_FILE',
  };
  try {
    return loadIdentity(credential ? { credential, keyFile, sources } : { credentialFile, keyFile, sources });
  } catch (err) {
    if (err instanceof IdentityError) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * Connects, runs `fn`, and always closes the connection. `reconnect`: for commands that keep
 * running (watching), ride out a NATS outage instead of failing at once.
 */
export async function withClient<T>(cmd: Command, fn: (client: SecretClient) => Promise<T>, o: { reconnect?: boolean } = {}): Promise<T> {
  const config = cliConfig(cmd);
  const identity = cliIdentity(cmd);
  const client = await SecretClient.connect({
    servers: config.servers,
    identity,
    subjectPrefix: config.subjectPrefix,
    audience: config.audience,
    timeoutMs: config.timeoutMs,
    sessions: config.sessions,
    servicePublicKey: config.servicePublicKey,
    // Fail fast when NATS is not there at the start; a one-shot command does not reconnect either.
    natsOptions: { ...config.natsAuth, maxReconnectAttempts: o.reconnect ? -1 : 0, timeout: Math.max(config.timeoutMs, 5000) },
  });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
