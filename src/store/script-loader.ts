/**
 * Loads the Lua scripts of scripts/ and registers them on a Redis connection (EVALSHA,
 * NOSCRIPT-safe). A line `--- @include "name"` is replaced by scripts/includes/name.lua,
 * so every script shares one record layout.
 */
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';

/** Scripts whose replies hold sealed values get Buffers; the rest get strings (cheaper to decode). */
const SCRIPTS = {
  read: 'Buffer', peek: 'Buffer', list: 'Buffer', versions: 'Buffer', write: '', rewrap: '', keycount: 'Buffer', canary: '',
  revoke: '', unrevoke: '', revocations: '', changes: '',
} as const;
export type ScriptName = keyof typeof SCRIPTS;
export const SCRIPT_NAMES = Object.keys(SCRIPTS) as ScriptName[];

export type ScriptRunner = (keys: string[], args: (string | number | Buffer)[]) => Promise<unknown>;

const INCLUDE = /^--- @include "([a-z-]+)"$/gm;

export function scriptSource(name: string): string {
  const lua = readFileSync(new URL(`./scripts/${name}.lua`, import.meta.url), 'utf8');
  return lua.replace(INCLUDE, (_, include: string) => readFileSync(new URL(`./scripts/includes/${include}.lua`, import.meta.url), 'utf8'));
}

export function loadScripts(redis: Redis | Cluster): Record<ScriptName, ScriptRunner> {
  const runners = {} as Record<ScriptName, ScriptRunner>;
  for (const name of SCRIPT_NAMES) {
    redis.defineCommand(name, { lua: scriptSource(name) });
    const command = `${name}${SCRIPTS[name]}`;
    // defineCommand adds a method ioredis' types cannot know about.
    const call = (Reflect.get(redis, command) as (...a: unknown[]) => Promise<unknown>).bind(redis);
    runners[name] = (keys, args) => call(keys.length, ...keys, ...args);
  }
  return runners;
}
