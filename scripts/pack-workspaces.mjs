#!/usr/bin/env node
/**
 * npm pack leaves linked workspace packages out of bundleDependencies. Before packing
 * (`materialise`), the links node_modules/@secret-svc/{protocol,client} are replaced by real
 * copies of what those packages publish (package.json, dist, README); after packing
 * (`restore`), the links come back. Runs from the repository root (npm's prepack/postpack).
 */
import { cpSync, existsSync, lstatSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

const WORKSPACES = ['protocol', 'client'];
const mode = process.argv[2];

for (const ws of WORKSPACES) {
  const target = join('node_modules', '@secret-svc', ws);
  if (mode === 'materialise') {
    if (!existsSync(join(ws, 'dist', 'index.js'))) throw new Error(`${ws}/dist is missing: build first`);
    rmSync(target, { recursive: true, force: true });
    mkdirSync(target, { recursive: true });
    for (const entry of ['package.json', 'dist', 'README.md']) {
      if (existsSync(join(ws, entry))) cpSync(join(ws, entry), join(target, entry), { recursive: true });
    }
  } else if (mode === 'restore') {
    if (existsSync(target) && lstatSync(target).isSymbolicLink()) continue;
    rmSync(target, { recursive: true, force: true });
    symlinkSync(join('..', '..', ws), target);
  } else {
    throw new Error('usage: pack-workspaces.mjs materialise|restore');
  }
}
