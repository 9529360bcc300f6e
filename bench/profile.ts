/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --cpu-prof`): self time by function
 * and by module, and inclusive time of the request pipeline's stages.
 *   node --import tsx bench/profile.ts <file.cpuprofile> [top]
 */
import { readFileSync } from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile.ts <file.cpuprofile> [top]');
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const idle = [...self].filter(([id]) => /^\((idle|program|garbage collector)\)$/.test(byId.get(id)!.callFrame.functionName));
const idleUs = [...self].filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)').reduce((a, [, us]) => a + us, 0);
const busy = total - idleUs;
// Percentages are of busy (non-idle) time: what the worker spends its CPU on.
const pct = (us: number) => `${((us / busy) * 100).toFixed(1).padStart(5)}%`;

function where(n: Node): string {
  const url = n.callFrame.url.replace(/^file:\/\//, '').replace(/.*\/node_modules\//, 'npm:').replace(/.*\/(src|client\/src|dist)\//, '$1/');
  return `${url || '(native)'}:${n.callFrame.lineNumber + 1}`;
}
function moduleOf(n: Node): string {
  const url = n.callFrame.url;
  if (!url) return n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : '(native/builtin)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `npm:${pkg[1]}`;
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\//, '').replace(/.*\/(src|client\/src|dist)\//, '$1/');
}

const seconds = (profile.endTime - profile.startTime) / 1e6;
console.log(`${file}\n${seconds.toFixed(1)} s profiled, ${(busy / 1e6).toFixed(2)} s busy (percentages below are of busy time); ${idle.map(([id, us]) => `${byId.get(id)!.callFrame.functionName} ${pct(us)}`).join(', ')}\n`);

const fnSelf = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id)!;
  const k = `${n.callFrame.functionName || '(anonymous)'}  ${where(n)}`;
  fnSelf.set(k, (fnSelf.get(k) ?? 0) + us);
}
console.log(`top ${top} functions by self time:`);
for (const [k, us] of [...fnSelf].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${k}`);

const modSelf = new Map<string, number>();
for (const [id, us] of self) {
  const m = moduleOf(byId.get(id)!);
  modSelf.set(m, (modSelf.get(m) ?? 0) + us);
}
console.log('\nself time by module:');
for (const [k, us] of [...modSelf].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${k}`);

// Inclusive time of named stages: a sample counts once per stage if the stage is on its stack.
const stages = process.env.STAGES?.split(',') ?? [
  'handle', 'readEnvelope', 'parseEnvelope', 'verify', 'checkSignature', 'signedBytes', 'checkRequest', 'decodePayload', 'safeParse',
  'read', 'list', 'open', 'seal', 'parseRecord', 'encodeBody', 'dispatch', 'respond', 'processMsg', 'sendCommand', 'evalsha',
];
const inclusive = new Map<string, number>();
for (const [id, us] of self) {
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const name = byId.get(cur)!.callFrame.functionName;
    if (stages.includes(name) && !seen.has(name)) {
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    }
  }
}
console.log('\ninclusive time of pipeline stages (by function name):');
for (const [k, us] of [...inclusive].sort((a, b) => b[1] - a[1])) console.log(`  ${pct(us)}  ${k}`);
