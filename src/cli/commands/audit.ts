/** `secret-svc audit`: reads the audit trail (docs/protocol.md §11) from its JetStream stream. */
import { Option, type Command } from 'commander';
import { OPS } from '@secret-svc/protocol';
import { connect } from 'nats';
import { DEFAULT_AUDIT_STREAM } from '../../audit/settings.js';
import { eventFilter, STATUS_WORDS, statusMatcher } from '../../audit/filter.js';
import { readTrail, TrailReadError } from '../../audit/reader.js';
import { tableHeader, tableRow } from '../../audit/table.js';
import type { AuditEvent } from '../../audit/event.js';
import { completeWith } from '../completion/words.js';
import { cliConfig } from '../lib/client-config.js';
import { parseDuration } from '../lib/duration.js';
import { CliError, EXIT, UsageError } from '../lib/exit-codes.js';
import { out, warn } from '../lib/io.js';
import { streams } from '../lib/streams.js';

interface AuditOptions {
  follow?: boolean;
  slug?: string;
  key?: string;
  op?: string;
  status?: string;
  since?: string;
  stream?: string;
  json?: boolean;
  table?: boolean;
  inboxPrefix?: string;
}

export function register(program: Command): void {
  program
    .command('audit')
    .summary('read the audit trail (table or JSON lines)')
    .description('print the audit trail\'s events, oldest first: a table on a terminal, JSON lines otherwise. The trail ' +
      'is read straight from its JetStream stream with your NATS login and its permissions (NATS_CREDS, NATS_USER, ' +
      '…): a secret-svc credential is neither needed nor used, so who may read the trail is decided by the NATS ' +
      'server\'s permissions on the stream, not by secret-svc (see SECURITY.md)')
    .option('-f, --follow', 'keep printing new events until interrupted')
    .option('--slug <slug>', 'only events of this caller')
    .option('--key <prefix>', 'only events about keys (or list prefixes) starting with this')
    .addOption(completeWith(new Option('--op <op>', 'only these operations (comma-separated)'), OPS))
    .addOption(completeWith(new Option('--status <status>', 'only these statuses: 200, 4xx, forbidden, ... (comma-separated)'), STATUS_WORDS))
    .option('--since <when>', 'from this time on: a duration back from now (15m, 2h, 7d) or an ISO time')
    .option('--stream <name>', `the stream (env SECRET_SVC_AUDIT_STREAM, default ${DEFAULT_AUDIT_STREAM})`)
    .option('--inbox-prefix <prefix>', 'the inbox prefix your NATS user may subscribe to (env NATS_INBOX_PREFIX; see SECURITY.md)')
    .option('--json', 'JSON lines, also on a terminal')
    .option('--table', 'a table, also when not on a terminal')
    .action(async (o: AuditOptions, cmd: Command) => {
      const config = cliConfig(cmd);
      if (o.json && o.table) throw new UsageError('--json and --table exclude each other');
      const query = parseQuery(o);
      const asTable = o.table ?? (!o.json && streams().stdout.isTTY === true);
      const nc = await connect({
        ...config.natsAuth,
        servers: config.servers,
        ...inboxPrefix(o),
        // Following survives a NATS restart; a one-off read fails fast.
        maxReconnectAttempts: o.follow ? -1 : 0,
        timeout: Math.max(config.timeoutMs, 5000),
        noAsyncTraces: true,
      });
      const abort = new AbortController();
      const stop = () => abort.abort();
      if (o.follow) {
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      }
      let printedHeader = false;
      const print = (e: AuditEvent) => {
        if (!asTable) return out(`${JSON.stringify(e)}\n`);
        if (!printedHeader) out(`${tableHeader()}\n`);
        printedHeader = true;
        out(`${tableRow(e)}\n`);
      };
      try {
        const n = await readTrail(nc, { ...query, subjectPrefix: config.subjectPrefix, follow: o.follow === true, signal: abort.signal }, print);
        if (n === 0 && !o.follow) warn('no events\n');
      } catch (err) {
        if (err instanceof TrailReadError) throw new CliError(err.message, EXIT.notFound);
        throw err;
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        await nc.close();
      }
    });
}

function inboxPrefix(o: AuditOptions): { inboxPrefix?: string } {
  const prefix = o.inboxPrefix ?? (process.env.NATS_INBOX_PREFIX || undefined);
  if (prefix === undefined) return {};
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(prefix)) throw new UsageError(`--inbox-prefix: "${prefix}" is not a NATS subject prefix`);
  return { inboxPrefix: prefix };
}

function parseQuery(o: AuditOptions) {
  const ops = o.op?.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = ops?.find((op) => !/^[a-z][a-z0-9-]*$/.test(op));
  if (bad !== undefined) throw new UsageError(`--op: "${bad}" is not an operation name`);
  const status = o.status === undefined ? undefined : statusMatcher(o.status);
  if (o.status !== undefined && !status) throw new UsageError(`--status: "${o.status}" is not a status (examples: 200, 4xx, 403, forbidden)`);
  const stream = o.stream ?? (process.env.SECRET_SVC_AUDIT_STREAM || DEFAULT_AUDIT_STREAM);
  return {
    stream,
    ops,
    since: o.since === undefined ? undefined : parseSince(o.since),
    filter: eventFilter({ slug: o.slug, keyPrefix: o.key, status }),
  };
}

/** A duration back from now (15m, 2h, 7d, 3600) or an ISO time. */
export function parseSince(text: string, now = Date.now()): Date {
  if (/^\d+[smhdw]?$/.test(text.trim())) return new Date(now - parseDuration(text) * 1000);
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text.trim()) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) throw new UsageError(`--since: "${text}" is neither a duration (15m, 2h, 7d) nor an ISO time (2026-05-01T12:00:00Z)`);
  return new Date(ms);
}
