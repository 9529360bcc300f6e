/** Builds the `secret-svc` command tree and runs it, mapping every failure to an exit code. */
import { Command, CommanderError } from 'commander';
import * as serve from './commands/serve.js';
import * as dev from './commands/dev.js';
import * as keygen from './commands/keygen.js';
import * as keys from './commands/keys.js';
import * as issue from './commands/issue.js';
import * as sign from './commands/sign.js';
import * as whoami from './commands/whoami.js';
import * as get from './commands/get.js';
import * as set from './commands/set.js';
import * as create from './commands/create.js';
import * as update from './commands/update.js';
import * as rm from './commands/rm.js';
import * as ls from './commands/ls.js';
import * as importCmd from './commands/import.js';
import * as exportCmd from './commands/export.js';
import * as versions from './commands/versions.js';
import * as rollback from './commands/rollback.js';
import * as run from './commands/run.js';
import * as watch from './commands/watch.js';
import * as completion from './commands/completion.js';
import * as revoke from './commands/revoke.js';
import * as unrevoke from './commands/unrevoke.js';
import * as revocations from './commands/revocations.js';
import * as audit from './commands/audit.js';
import { VERSION } from '../version.js';
import { streams, withStreams, type CliStreams } from './lib/streams.js';
import { errorLine, EXIT, EXIT_CODES_HELP, exitCodeFor } from './lib/exit-codes.js';

/** Every command, in the order `--help` lists them: the one place a new command is added. */
const COMMANDS: readonly { register(program: Command): void }[] = [
  serve, dev, keygen, keys, issue, sign, whoami, get, set, create, update, rm,
  ls, importCmd, exportCmd, versions, rollback, run, watch, completion, revoke, unrevoke, revocations, audit,
];

const ENV_HELP = `Environment (flags win):
  NATS_URL                     NATS server(s), comma-separated (default nats://127.0.0.1:4222)
  SECRET_SVC_CREDENTIAL_FILE   file holding your credential (or SECRET_SVC_CREDENTIAL: the text)
  SECRET_SVC_KEY_FILE          your private key (JWK file, from \`secret-svc keygen\`)
  SECRET_SVC_SUBJECT_PREFIX    subject prefix (default secret)
  SECRET_SVC_AUDIENCE          audience (default secret-svc)
  SECRET_SVC_SERVICE_PUBLIC_KEY  the deployment's service public key: sessions only with handshakes it signed
  NATS_CREDS | NATS_USER + NATS_PASSWORD | NATS_TOKEN, NATS_TLS_CA/CERT/KEY, NATS_INBOX_PREFIX   NATS login, TLS, inbox`;


/** `args`: the command line after the script; `-V, --version` is the CLI's own only before a subcommand. */
export function buildProgram(args: readonly string[] = []): Command {
  const program = new Command('secret-svc')
    .description('A secret store over NATS: the worker, key and credential tools, and a client.')
    .option('--nats-url <url>', 'NATS server(s), comma-separated (env NATS_URL)')
    .option('--credential-file <file>', 'credential file (env SECRET_SVC_CREDENTIAL_FILE)')
    .option('--key-file <file>', 'private key JWK file (env SECRET_SVC_KEY_FILE)')
    .option('--subject-prefix <prefix>', 'subject prefix (env SECRET_SVC_SUBJECT_PREFIX, default secret)')
    .option('--audience <aud>', 'audience (env SECRET_SVC_AUDIENCE, default secret-svc)')
    .option('--timeout <ms>', 'how long a call may take in milliseconds, retries included', '5000')
    .option('--no-sessions', 'send every request signed instead of over a session (sessions seal values on the bus)')
    .option('--service-public-key <key>',
      "pin the deployment's service public key (base64url x): open sessions only with handshakes it signed, " +
      'never fall back to signed requests (env SECRET_SVC_SERVICE_PUBLIC_KEY)')
    .exitOverride()
    .configureOutput({ writeOut: (t) => streams().stdout.write(t), writeErr: (t) => streams().stderr.write(t) })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', `\n${ENV_HELP}\n\n${EXIT_CODES_HELP}\n`);
  program.configureHelp({ sortSubcommands: false });
  for (const command of COMMANDS) command.register(program);
  // Commander would take `--version` anywhere on the line, so `get KEY --version N` needs it left out.
  if (!namesSubcommand(program, args)) program.version(VERSION, '-V, --version', 'print the version of secret-svc');
  // Subcommands created above inherit exitOverride; they also show the exit codes in --help.
  for (const cmd of program.commands) cmd.addHelpText('after', `\n${EXIT_CODES_HELP}\n`);
  return program;
}

/** Whether a subcommand comes before any `-V` / `--version` (skipping the program's options and their values). */
function namesSubcommand(program: Command, args: readonly string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--' || arg === '-V' || arg === '--version') return false;
    if (!arg.startsWith('-')) return true;
    const flag = arg.split('=')[0];
    const option = program.options.find((o) => o.long === flag || o.short === flag);
    if (option && (option.required || option.optional) && !arg.includes('=')) i++;
  }
  return false;
}

/**
 * Runs the CLI (argv as in process.argv: node, script, args…); resolves with the exit code
 * (errors already printed). `io` replaces the process's environment and streams (tests).
 */
export async function runCli(argv: string[], io?: CliStreams): Promise<number> {
  if (io) return withStreams(io, () => runCli(argv));
  const program = buildProgram(argv.slice(2));
  try {
    await program.parseAsync(argv);
    return streams().exitCode ?? EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed its message (or the help) already.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    streams().stderr.write(`${errorLine(err)}\n`);
    return exitCodeFor(err);
  }
}
