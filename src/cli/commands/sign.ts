/** `secret-svc sign OP [JSON]`: a signed JSON envelope for `nats req` (docs/protocol.md §8). */
import { Argument, type Command } from 'commander';
import { buildEnvelope, decodeUtf8, isOp, OPS, requestHead } from '@secret-svc/protocol';
import { completeWith } from '../completion/words.js';
import { cliConfig, cliIdentity } from '../lib/client-config.js';
import { UsageError } from '../lib/exit-codes.js';
import { out } from '../lib/io.js';

const HEAD_FIELDS = ['op', 'aud', 'ts', 'nonce'];

export function register(program: Command): void {
  program
    .command('sign')
    .summary('print a signed JSON envelope for `nats req`')
    .description(`print a JSON envelope for OP (${OPS.join(', ')}) with a fresh ts and nonce, signed with your key, ` +
      'e.g. nats req secret.whoami "$(secret-svc sign whoami)"')
    .addArgument(completeWith(new Argument('<op>', 'the operation'), OPS))
    .argument('[json]', "the operation's fields as a JSON object", '{}')
    .action((op: string, json: string, _o: unknown, cmd: Command) => {
      if (!isOp(op)) throw new UsageError(`unknown operation "${op}" (one of ${OPS.join(', ')})`);
      let params: unknown;
      try {
        params = JSON.parse(json);
      } catch {
        throw new UsageError('JSON argument is not valid JSON');
      }
      if (typeof params !== 'object' || params === null || Array.isArray(params)) throw new UsageError('JSON argument must be an object');
      const given = HEAD_FIELDS.filter((f) => f in params);
      if (given.length) throw new UsageError(`do not give ${given.join(', ')}: sign sets them`);
      const config = cliConfig(cmd);
      const identity = cliIdentity(cmd);
      const request = { ...requestHead(op, config.audience), ...params };
      out(`${decodeUtf8(buildEnvelope(identity.credential, identity.key, request, 'json'))}\n`);
    });
}
