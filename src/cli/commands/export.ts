/** `secret-svc export [PREFIX]`: the readable secrets with their values, as JSON or dotenv. */
import type { Command } from 'commander';
import { MAX_READ_KEYS, type Secret } from '@secret-svc/protocol';
import { withClient } from '../context.js';
import { formatDotenvLine } from '../dotenv.js';
import { UsageError } from '../exit.js';
import { out, writePrivateFile } from '../io.js';
import { progress } from '../progress.js';

interface ExportFlags {
  format: string;
  stripPrefix?: boolean;
  out?: string;
  force?: boolean;
  progress: boolean;
}

export function register(program: Command): void {
  program
    .command('export')
    .summary('print readable secrets as JSON or dotenv')
    .description('print every secret you can read whose key starts with PREFIX, values included: JSON (an array of ' +
      'secrets, which `import` reads back) or dotenv; secrets you can see but not read are skipped with a warning')
    .argument('[prefix]', 'only keys starting with this', '')
    .option('--format <format>', 'json or dotenv', 'json')
    .option('--strip-prefix', 'dotenv: write names without PREFIX (deploy-svc/DB_URL -> DB_URL)')
    .option('-o, --out <file>', 'write to this file (mode 0600) instead of stdout')
    .option('-f, --force', 'replace an existing --out file')
    .option('--no-progress', 'never show a progress bar')
    .action(async (prefix: string, o: ExportFlags, cmd: Command) => {
      if (o.format !== 'json' && o.format !== 'dotenv') throw new UsageError('--format must be json or dotenv');
      const { secrets, denied } = await withClient(cmd, async (client) => {
        const keys: string[] = [];
        for await (const m of client.listAll({ prefix, limit: 1000 })) keys.push(m.key);
        const found: Secret[] = [];
        const skipped: string[] = [];
        const bar = progress('export', keys.length, o.progress);
        try {
          for (let i = 0; i < keys.length; i += MAX_READ_KEYS) {
            const reply = await client.readMany(keys.slice(i, i + MAX_READ_KEYS));
            found.push(...reply.secrets);
            skipped.push(...reply.denied);
            for (let n = 0; n < reply.secrets.length + reply.denied.length + reply.missing.length; n++) bar.tick();
          }
        } finally {
          bar.stop();
        }
        return { secrets: found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)), denied: skipped };
      });
      for (const key of denied) process.stderr.write(`warning: skipped ${key}: you may see it but not read it\n`);
      const text = o.format === 'json'
        ? `${JSON.stringify(secrets, null, 2)}\n`
        : secrets.map((s) => formatDotenvLine(o.stripPrefix ? s.key.slice(prefix.length) : s.key, s.value)).join('\n') + (secrets.length ? '\n' : '');
      if (o.out) writePrivateFile(o.out, text, o.force);
      else out(text);
    });
}
