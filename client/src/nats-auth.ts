/**
 * How the worker, the CLI and SecretClient.fromEnv log in to NATS, from the environment: a creds
 * file (JWT + NKey, for operator/account deployments), user and password, or a token; TLS files;
 * and the inbox prefix the user may subscribe to. NATS
 * permissions (see SECURITY.md) only protect anything when every client must log in.
 */
import { readFileSync } from 'node:fs';
import { credsAuthenticator, type ConnectionOptions } from 'nats';

/** The NATS login settings do not fit together; the message names the variable. */
export class NatsAuthError extends Error {}

export const NATS_AUTH_ENV = ['NATS_CREDS', 'NATS_USER', 'NATS_PASSWORD', 'NATS_TOKEN', 'NATS_TLS_CA', 'NATS_TLS_CERT', 'NATS_TLS_KEY', 'NATS_INBOX_PREFIX'] as const;

/** Throws an Error naming the variable when the settings do not fit together. Empty means unset. */
export function natsAuthOptions(source: { readonly [name: string]: unknown }): Partial<ConnectionOptions> {
  const env = Object.fromEntries(NATS_AUTH_ENV.map((n) => [n, typeof source[n] === "string" && source[n] !== "" ? source[n] : undefined])) as Partial<Record<(typeof NATS_AUTH_ENV)[number], string>>;
  const options: Partial<ConnectionOptions> = {};
  const ways = [env.NATS_CREDS && 'NATS_CREDS', (env.NATS_USER || env.NATS_PASSWORD) && 'NATS_USER/NATS_PASSWORD', env.NATS_TOKEN && 'NATS_TOKEN'].filter(Boolean);
  if (ways.length > 1) throw new NatsAuthError(`set only one way to log in to NATS, not ${ways.join(' and ')}`);
  if (env.NATS_CREDS) {
    let creds: Buffer;
    try {
      creds = readFileSync(env.NATS_CREDS);
    } catch (err) {
      throw new NatsAuthError(`NATS_CREDS: cannot read ${env.NATS_CREDS}: ${(err as Error).message}`);
    }
    options.authenticator = credsAuthenticator(new Uint8Array(creds));
  }
  if (env.NATS_USER || env.NATS_PASSWORD) {
    if (!env.NATS_USER || !env.NATS_PASSWORD) throw new NatsAuthError('NATS_USER and NATS_PASSWORD go together');
    options.user = env.NATS_USER;
    options.pass = env.NATS_PASSWORD;
  }
  if (env.NATS_TOKEN) options.token = env.NATS_TOKEN;
  // With NATS permissions each user may subscribe only under its own inbox prefix (SECURITY.md).
  if (env.NATS_INBOX_PREFIX) options.inboxPrefix = env.NATS_INBOX_PREFIX;
  if (env.NATS_TLS_CA || env.NATS_TLS_CERT || env.NATS_TLS_KEY) {
    if (!env.NATS_TLS_CERT !== !env.NATS_TLS_KEY) throw new NatsAuthError('NATS_TLS_CERT and NATS_TLS_KEY go together');
    options.tls = {
      ...(env.NATS_TLS_CA ? { caFile: env.NATS_TLS_CA } : {}),
      ...(env.NATS_TLS_CERT ? { certFile: env.NATS_TLS_CERT, keyFile: env.NATS_TLS_KEY } : {}),
    };
  }
  return options;
}
