/** Loads the Lua scripts next to this file and registers them on a Redis connection (EVALSHA, NOSCRIPT-safe). */
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';

/** Scripts whose replies hold sealed values get Buffers; the rest get strings (cheaper to decode). */
const SCRIPTS = { read: 'Buffer', peek: 'Buffer', list: '', write: '' } as const;
type ScriptName = keyof typeof SCRIPTS;

type Reply = unknown;
export type ScriptRunner = (keys: string[], args: (string | number | Buffer)[]) => Promise<Reply>;

export function loadScripts(redis: Redis | Cluster): Record<ScriptName, ScriptRunner> {
  const runners = {} as Record<ScriptName, ScriptRunner>;
  for (const name of Object.keys(SCRIPTS) as ScriptName[]) {
    const lua = readFileSync(new URL(`./scripts/${name}.lua`, import.meta.url), 'utf8');
    redis.defineCommand(name, { lua });
    const command = `${name}${SCRIPTS[name]}`;
    runners[name] = (keys, args) =>
      (redis as unknown as Record<string, (...a: unknown[]) => Promise<Reply>>)[command]!(keys.length, ...keys, ...args);
  }
  return runners;
}
