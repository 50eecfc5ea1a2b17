export { Auditor, auditAnnotation, auditRequestObject, auditResponseText, type AuditSink, type RequestAudit } from './auditor.ts';
export { AuditLogWriter, type AuditLogOptions } from './log-writer.ts';
export { loadAuditPolicy, parseAuditPolicy, type AuditPolicy } from './policy.ts';
export { AuditWebhookBackend, type AuditWebhookOptions } from './webhook-backend.ts';
