/** Client options from the environment, the same variables the CLI reads. */
import type { ConnectionOptions } from 'nats';
import { natsAuthOptions } from './nats-auth.js';
import { DEFAULT_NATS_URL } from '@secret-svc/protocol';

export type Env = Readonly<Record<string, string | undefined>>;

export interface EnvOptions {
  servers: string[];
  credential?: string;
  credentialFile?: string;
  keyFile?: string;
  subjectPrefix?: string;
  audience?: string;
  /** SECRET_SVC_SERVICE_PUBLIC_KEY: the deployment's service public key to pin (sessions). */
  servicePublicKey?: string;
  natsOptions: Partial<ConnectionOptions>;
  sources: { credentialFile?: string; keyFile?: string };
}

/**
 * NATS_URL (comma-separated), SECRET_SVC_CREDENTIAL or SECRET_SVC_CREDENTIAL_FILE,
 * SECRET_SVC_KEY_FILE, SECRET_SVC_SUBJECT_PREFIX, SECRET_SVC_AUDIENCE, SECRET_SVC_SERVICE_PUBLIC_KEY and the NATS login
 * settings (NATS_CREDS | NATS_USER + NATS_PASSWORD | NATS_TOKEN, NATS_TLS_CA/CERT/KEY).
 * Empty values count as unset.
 */
export function optionsFromEnv(env: Env = process.env): EnvOptions {
  const get = (name: string) => (env[name] === '' ? undefined : env[name]);
  const credential = get('SECRET_SVC_CREDENTIAL');
  return {
    servers: (get('NATS_URL') ?? DEFAULT_NATS_URL).split(',').map((s) => s.trim()).filter(Boolean),
    ...(credential ? { credential } : { credentialFile: get('SECRET_SVC_CREDENTIAL_FILE') }),
    keyFile: get('SECRET_SVC_KEY_FILE'),
    subjectPrefix: get('SECRET_SVC_SUBJECT_PREFIX'),
    audience: get('SECRET_SVC_AUDIENCE'),
    servicePublicKey: get('SECRET_SVC_SERVICE_PUBLIC_KEY')?.trim(),
    natsOptions: natsAuthOptions(env),
    sources: { credentialFile: 'SECRET_SVC_CREDENTIAL_FILE', keyFile: 'SECRET_SVC_KEY_FILE' },
  };
}
