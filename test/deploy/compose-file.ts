/**
 * docker-compose.yml as compose reads it: parsed (the `yaml` package), with `${VAR:?msg}`,
 * `${VAR:-default}`, `${VAR}` and `$$` substituted from an environment as compose does.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../helpers/process.js';

export interface Service {
  image?: string;
  build?: unknown;
  user?: string;
  command?: string[] | string;
  environment?: Record<string, string> | string[];
  secrets?: Array<string | { source: string; target?: string }>;
  deploy?: { replicas?: number };
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test?: string[] | string };
  depends_on?: Record<string, { condition?: string }>;
}

export interface Compose {
  services: Record<string, Service>;
  secrets?: Record<string, { file?: string }>;
  volumes?: Record<string, unknown>;
}

export const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');

export function composeText(): string {
  return readFileSync(COMPOSE_FILE, 'utf8');
}

/** The file as written (variables not substituted). */
export function readCompose(): Compose {
  return parse(composeText()) as Compose;
}

/** The file as compose runs it with `env`: every string substituted; a missing required variable throws its message. */
export function resolveCompose(env: Record<string, string>): Compose {
  return substitute(readCompose(), env) as Compose;
}

const VARIABLE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

export function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(VARIABLE, (whole, braced: string | undefined, colon: string, kind: string | undefined, arg: string, bare: string | undefined) => {
    if (whole === '$$') return '$';
    const name = braced ?? bare!;
    const value = env[name];
    const missing = value === undefined || (colon === ':' && value === '');
    if (kind === '-') return missing ? arg : value!;
    if (kind === '?') {
      if (missing) throw new Error(`required variable ${name} is missing a value: ${arg}`);
      return value!;
    }
    return value ?? '';
  });
}

function substitute(v: unknown, env: Record<string, string>): unknown {
  if (typeof v === 'string') return interpolate(v, env);
  if (Array.isArray(v)) return v.map((x) => substitute(x, env));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, env)]));
  return v;
}

export function envOf(s: Service): Record<string, string> {
  if (Array.isArray(s.environment)) {
    return Object.fromEntries(s.environment.map((e) => [e.split('=')[0]!, e.slice(e.indexOf('=') + 1)]));
  }
  return s.environment ?? {};
}

export const commandOf = (s: Service): string[] => (Array.isArray(s.command) ? s.command : (s.command ?? '').split(' ').filter(Boolean));

/** Host-side files a service mounts (./path:/target…). */
export const mountedFiles = (s: Service): string[] => (s.volumes ?? []).filter((v) => v.startsWith('./')).map((v) => v.split(':')[0]!);

/**
 * Container path → host path of what a service mounts: files from the project directory
 * (./path:/target) and named volumes (name:/target), each volume a directory under `volumesDir`.
 */
export function mounts(s: Service, volumesDir: string): Map<string, string> {
  return new Map((s.volumes ?? []).map((v) => {
    const [from, target] = v.split(':') as [string, string];
    return [target, from.startsWith('./') ? join(ROOT, from) : join(volumesDir, from)];
  }));
}

/** A command line with the container paths under a mount replaced by their host paths. */
export function onHost(args: string[], s: Service, volumesDir: string): string[] {
  const m = [...mounts(s, volumesDir)];
  return args.map((a) => {
    const hit = m.find(([target]) => a === target || a.startsWith(`${target}/`));
    return hit ? hit[1] + a.slice(hit[0].length) : a;
  });
}

/** The host file of each secret a service gets, by its container path (/run/secrets/<target>). */
export function secretFiles(compose: Compose, s: Service): Map<string, string> {
  return new Map((s.secrets ?? []).map((ref) => {
    const { source, target } = typeof ref === 'string' ? { source: ref, target: ref } : { target: ref.source, ...ref };
    const file = compose.secrets?.[source]?.file;
    if (!file) throw new Error(`secret ${source} has no file`);
    const path = isAbsolute(file) ? file : join(ROOT, file);
    return [target!.startsWith('/') ? target! : `/run/secrets/${target}`, path];
  }));
}
