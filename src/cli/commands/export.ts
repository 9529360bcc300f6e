/** `secret-svc export [PREFIX]`: the readable secrets with their values, as JSON or variables. */
import { Option, type Command } from 'commander';
import type { SecretClient } from '@secret-svc/client';
import type { Secret } from '@secret-svc/protocol';
import { addAllowEmptyOption, readAllUnder, requireSome } from '../lib/batch-read.js';
import { withClient } from '../lib/client-config.js';
import { EXPORT_FORMATS, formatVariables, type ExportFormat } from '../lib/dotenv.js';
import { addNamingOptions, NAMING_HELP, namingRule, variableNames, type NamingFlags } from '../lib/env-names.js';
import { out, warn, writePrivateFile } from '../lib/io.js';
import { addRewriteOptions, keepRewriting, wantsRewrites, type RewriteFlags } from '../watch/rewrite.js';

interface ExportFlags extends NamingFlags, RewriteFlags {
  format: string;
  allowEmpty?: boolean;
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
      '--env-file`; a multi-line value is refused). A PREFIX under which you can read nothing is an error (exit 3) ' +
      `unless --allow-empty. dotenv, shell and env-file name the variables as \`run\` does. ${NAMING_HELP}`)
    .argument('[prefix]', 'only keys starting with this', '')
    .addOption(new Option('--format <format>', 'the output format').choices(EXPORT_FORMATS).default('json'));
  addAllowEmptyOption(addNamingOptions(exportCmd))
    .option('-o, --out <file>', 'write to this file (mode 0600, atomically) instead of stdout')
    .option('-f, --force', 'replace an existing --out file')
    .option('--no-progress', 'never show a progress bar');
  addRewriteOptions(exportCmd)
    .action(async (prefix: string, o: ExportFlags, cmd: Command) => {
      const format = o.format as ExportFormat;
      const rule = namingRule(o, prefix);
      const watching = wantsRewrites(o);
      const render = async (client: SecretClient): Promise<string> => {
        const { secrets, denied } = await readAllUnder(client, prefix, o.progress && !watching);
        for (const key of denied) warn(`warning: skipped ${key}: you may see it but not read it\n`);
        requireSome(secrets.length, prefix, o.allowEmpty);
        if (format === 'json') return `${JSON.stringify(secrets, null, 2)}\n`;
        const names = variableNames(secrets.map((s: Secret) => s.key), rule);
        return formatVariables(format, secrets.map((s: Secret) => ({ key: s.key, name: names.get(s.key)!, value: s.value })));
      };
      if (watching) return keepRewriting(cmd, prefix, o.out!, o.onChange, render);
      const text = await withClient(cmd, render);
      if (o.out) writePrivateFile(o.out, text, o.force);
      else out(text);
    });
}
