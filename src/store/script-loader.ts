/**
 * Registers the Lua scripts of scripts/ on a Redis connection (EVALSHA, NOSCRIPT-safe). Their
 * text is embedded at build time (lua.generated.ts, includes resolved), so nothing is read
 * from disk at start.
 */
import type { Cluster, Redis } from 'ioredis';
import { LUA } from './lua.generated.js';

/** Scripts whose replies hold sealed values get Buffers; the rest get strings (cheaper to decode). */
const SCRIPTS = {
  read: 'Buffer', peek: 'Buffer', list: 'Buffer', versions: 'Buffer', write: '', rewrap: '', keycount: 'Buffer', canary: '',
  revoke: '', unrevoke: '', revocations: '', changes: '',
} as const;
export type ScriptName = keyof typeof SCRIPTS;
export const SCRIPT_NAMES = Object.keys(SCRIPTS) as ScriptName[];

export type ScriptRunner = (keys: string[], args: (string | number | Buffer)[]) => Promise<unknown>;

export function loadScripts(redis: Redis | Cluster): Record<ScriptName, ScriptRunner> {
  const runners = {} as Record<ScriptName, ScriptRunner>;
  for (const name of SCRIPT_NAMES) {
    redis.defineCommand(name, { lua: LUA[name] });
    const command = `${name}${SCRIPTS[name]}`;
    // defineCommand adds a method ioredis' types cannot know about.
    const call = (Reflect.get(redis, command) as (...a: unknown[]) => Promise<unknown>).bind(redis);
    runners[name] = (keys, args) => call(keys.length, ...keys, ...args);
  }
  return runners;
}
