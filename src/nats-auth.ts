/** NATS login settings live in the client package (the CLI and SecretClient.fromEnv read them too). */
export { NATS_AUTH_ENV, NatsAuthError, natsAuthOptions } from '@secret-svc/client';
