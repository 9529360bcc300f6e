/** The log levels LOG_LEVEL and `dev --log-level` accept (pino's), apart from the logger so the CLI need not load pino. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
