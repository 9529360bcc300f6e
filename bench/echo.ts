/**
 * The baseline's responder: answers every request on `subject` (queue group, like the
 * workers) with a fixed reply the size of a real read reply. Nothing else: this is the
 * bus's own request-reply limit in the same runtime.
 *   node --import tsx bench/echo.ts <natsUrl> <subject> <queue> <replyBytes>
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'nats';

const [natsUrl, subject, queue, replyBytes] = process.argv.slice(2);
const nc = await connect({ servers: natsUrl!, noAsyncTraces: true, name: 'secret-svc-bench-echo' });
const reply = randomBytes(Number(replyBytes));
nc.subscribe(subject!, { queue: queue!, callback: (_err, msg) => msg.respond(reply) });
await nc.flush();
process.stdout.write('echo serving\n');
process.on('SIGTERM', () => void nc.drain().then(() => process.exit(0)));
