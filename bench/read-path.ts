/**
 * Which files of the worker (src/, protocol/src/) one signed read runs code in, and which
 * functions: V8's precise coverage around a single request whose envelope was built before
 * coverage started, so only the worker's side is counted. For keeping the request path short.
 *
 *   node --import tsx bench/read-path.ts
 */
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import { buildEnvelope, privateKeyObject, requestHead, subjectFor } from '@secret-svc/protocol';
import { startStack } from '../test/helpers/stack.js';

interface Coverage { result: { url: string; functions: { functionName: string; ranges: { count: number }[] }[] }[] }

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const stack = await startStack();
try {
  const admin = stack.issuer.caller('root', { admin: true });
  const client = await stack.client(admin, 'msgpack');
  await client.create('path/K', 'value');
  await client.close();
  const subject = subjectFor('secret', 'read');
  const envelope = () => buildEnvelope(admin.credential, privateKeyObject(admin.key), { ...requestHead('read', 'secret-svc'), key: 'path/K' }, 'msgpack');
  // Warm: lazy initialisation would otherwise show up as part of the path.
  for (let i = 0; i < 50; i++) await stack.nc.request(subject, envelope());
  const body = envelope();
  // Its 300 ms poll is background work, not the read's; the set it loaded still answers.
  await stack.worker.revocations.stop();

  const inspector = new Session();
  inspector.connect();
  await inspector.post('Profiler.enable');
  await inspector.post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
  await inspector.post('Profiler.takePreciseCoverage'); // counts start from here
  await stack.nc.request(subject, body);
  await new Promise((r) => setTimeout(r, 200)); // the audit ack settles after the reply
  const { result } = (await inspector.post('Profiler.takePreciseCoverage')) as Coverage;
  inspector.disconnect();

  const rows: [string, string][] = [];
  for (const script of result) {
    const file = script.url.startsWith('file://') ? fileURLToPath(script.url).slice(ROOT.length) : '';
    if (!/^(src|protocol\/src)\//.test(file)) continue;
    const called = script.functions.filter((f) => f.functionName && f.ranges[0]!.count > 0 && f.functionName !== '__name').map((f) => f.functionName);
    if (called.length > 0) rows.push([file, called.join(' ')]);
  }
  rows.sort(([a], [b]) => a.localeCompare(b));
  for (const [file, fns] of rows) console.log(`${file.padEnd(34)} ${fns}`);
  const worker = rows.filter(([f]) => f.startsWith('src/')).length;
  console.log(`\none signed read: ${rows.length} files (${worker} in src/, ${rows.length - worker} in protocol/src/)`);
} finally {
  await stack.stop();
}
