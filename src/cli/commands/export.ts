/** `secret-svc export [PREFIX]`: the readable secrets with their values, as JSON or variables. */
import type { Command } from 'commander';
import type { SecretClient } from '@secret-svc/client';
import type { Secret } from '@secret-svc/protocol';
import { readAllUnder } from '../batch.js';
import { withClient } from '../context.js';
import { EXPORT_FORMATS, formatVariables, type ExportFormat } from '../dotenv.js';
import { UsageError } from '../exit.js';
import { out, warn, writePrivateFile } from '../io.js';
import { addRewriteOptions, keepRewriting, wantsRewrites, type RewriteFlags } from '../watch/rewrite.js';

interface ExportFlags extends RewriteFlags {
  format: string;
  stripPrefix?: boolean;
  out?: string;
  force?: boolean;
  progress: boolean;
}

export function register(program: Command): void {
  const exportCmd = program
    .command('export')
    .summary('print readable secrets as JSON, dotenv, shell or env-file')
    .description('print every secret you can read whose key starts with PREFIX, values included; secrets you can see ' +
      'but not read are skipped with a warning. Formats: json (an array of secrets, which `import` reads back; any ' +
      'value), dotenv (NAME=value, for `set -a; . FILE` and `import`; multi-line values kept), shell (export ' +
      "NAME='value', for `. FILE`; multi-line values kept), env-file (NAME=value unquoted, for `docker run " +
      '--env-file`; a multi-line value is refused). dotenv, shell and env-file need keys that are valid variable ' +
      'names (after --strip-prefix): otherwise they fail naming the key.')
    .argument('[prefix]', 'only keys starting with this', '')
    .option('--format <format>', EXPORT_FORMATS.join(', '), 'json')
    .option('--strip-prefix', 'write names without PREFIX (deploy-svc/DB_URL -> DB_URL)')
    .option('-o, --out <file>', 'write to this file (mode 0600, atomically) instead of stdout')
    .option('-f, --force', 'replace an existing --out file')
    .option('--no-progress', 'never show a progress bar');
  addRewriteOptions(exportCmd)
    .action(async (prefix: string, o: ExportFlags, cmd: Command) => {
      const format = o.format as ExportFormat;
      if (!EXPORT_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')}`);
      const watching = wantsRewrites(o);
      const render = async (client: SecretClient): Promise<string> => {
        const { secrets, denied } = await readAllUnder(client, prefix, o.progress && !watching);
        for (const key of denied) warn(`warning: skipped ${key}: you may see it but not read it\n`);
        return format === 'json' ? `${JSON.stringify(secrets, null, 2)}\n` : formatVariables(format, secrets.map((s: Secret) => ({
          key: s.key, name: o.stripPrefix ? s.key.slice(prefix.length) : s.key, value: s.value,
        })));
      };
      if (watching) return keepRewriting(cmd, prefix, o.out!, o.onChange, render);
      const text = await withClient(cmd, render);
      if (o.out) writePrivateFile(o.out, text, o.force);
      else out(text);
    });
}
