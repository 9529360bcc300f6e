/**
 * Generates key pairs the way the worker, client and CLI do, under allocation pressure, and
 * uses each one. Prints "done" at the end; on Node 20, taking KeyObjects straight from
 * generateKeyPairSync and exporting them hangs this loop (see generatePrivateJwk).
 */
import { agree, generateJwk, generateSessionKeyPair, privateKeyObject, signBytes } from '@secret-svc/protocol/internal';

const rounds = Number(process.argv[2] ?? 20_000);
let garbage: number[][] = [];
for (let i = 0; i < rounds; i++) {
  const a = generateSessionKeyPair();
  const b = generateSessionKeyPair();
  agree(a.privateKey, b.publicKey);
  if (i % 4 === 0) signBytes(privateKeyObject(generateJwk()), Buffer.from('x'));
  // Frequent young-generation collections: the hang needs one during an export.
  garbage.push(new Array(64).fill(i));
  if (garbage.length > 1000) garbage = [];
}
console.log('done');
