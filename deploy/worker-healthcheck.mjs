// Worker healthcheck for docker compose: logs in to NATS as the worker does and asks the
// service's $SRV.PING; healthy when a secret-svc worker answers within 3 s. Exit 0 or 1.
import { connect } from 'nats';

const env = (name) => process.env[name] || undefined;
try {
  const nc = await connect({
    servers: env('NATS_URL'), user: env('NATS_USER'), pass: env('NATS_PASSWORD'), inboxPrefix: env('NATS_INBOX_PREFIX'),
    timeout: 3000, maxReconnectAttempts: 0,
  });
  await nc.request('$SRV.PING.secret-svc', new Uint8Array(), { timeout: 3000 });
  await nc.close();
  process.exit(0);
} catch (err) {
  console.error(`unhealthy: ${err.message}`);
  process.exit(1);
}
