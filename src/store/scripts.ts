/** Loads the Lua scripts next to this file and registers them on a Redis connection (EVALSHA, NOSCRIPT-safe). */
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';

const SCRIPTS = ['read', 'list', 'peek', 'write'] as const;
type ScriptName = (typeof SCRIPTS)[number];

type Reply = unknown;
export type ScriptRunner = (keys: string[], args: (string | number | Buffer)[]) => Promise<Reply>;

export function loadScripts(redis: Redis | Cluster): Record<ScriptName, ScriptRunner> {
  const runners = {} as Record<ScriptName, ScriptRunner>;
  for (const name of SCRIPTS) {
    const lua = readFileSync(new URL(`./scripts/${name}.lua`, import.meta.url), 'utf8');
    redis.defineCommand(name, { lua });
    // The Buffer variant keeps sealed values binary.
    const command = `${name}Buffer`;
    runners[name] = (keys, args) =>
      (redis as unknown as Record<string, (...a: unknown[]) => Promise<Reply>>)[command]!(keys.length, ...keys, ...args);
  }
  return runners;
}
