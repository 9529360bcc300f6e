/** The audit trail (docs/protocol.md §11): what the request pipeline and the CLI use. */
export { buildEvent, auditSubject, type AuditEvent, type AuditFacts, type AuditSelector } from './event.js';
export { auditEnvSchema, auditSettings, type AuditMode, type AuditSettings } from './settings.js';
export { AuditStartError, streamConfig } from './stream.js';
export { createAuditTrail, JetStreamAuditTrail, OffAuditTrail, type AuditTrail, type AuditTrailOptions } from './trail.js';
export { AuditedReplies, mustWait } from './reply-gate.js';
