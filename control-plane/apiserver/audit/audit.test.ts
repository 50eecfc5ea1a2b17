import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../apimachinery/index.ts';
import { Auditor, AuditLogWriter, auditAnnotation, auditRequestObject, auditResponseText, parseAuditPolicy } from './index.ts';

const POLICY = parseAuditPolicy(`apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  nonResourceURLs: ['/healthz*', /version]
- level: RequestResponse
  resources: [{group: '', resources: [configmaps]}]
  omitManagedFields: true
- level: Request
  verbs: [create]
  namespaces: [team]
- level: Metadata
`);
const admin = { name: 'alice', groups: ['system:authenticated'] };
const req = {
  url: '/api/v1/namespaces/default/configmaps',
  headers: { 'user-agent': 'kubectl/v1.34.0' },
  socket: { remoteAddress: '127.0.0.1' },
} as unknown as IncomingMessage;

describe('audit', () => {
  it('logs by the first matching rule, with the bodies its level asks for and the stages left out', async () => {
    const events: Record<string, unknown>[] = [];
    const auditor = new Auditor(POLICY, { write: (e) => void events.push(e as Record<string, unknown>) });
    const audit = auditor.begin({
      req,
      auditID: 'id-1',
      user: admin,
      attributes: { kind: 'resource', verb: 'create', apiGroup: '', resource: 'configmaps', namespace: 'default' },
    });
    await audit?.run(async () => {
      auditRequestObject({ kind: 'ConfigMap', metadata: { name: 'c', managedFields: [{}] } });
      auditResponseText('{"kind":"ConfigMap","metadata":{"name":"c","uid":"u","managedFields":[{}]}}');
    });
    audit?.complete({ code: 201 }, { allowed: true, reason: '' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'RequestResponse',
      auditID: 'id-1',
      stage: 'ResponseComplete',
      verb: 'create',
      requestURI: '/api/v1/namespaces/default/configmaps',
      user: { username: 'alice', groups: ['system:authenticated'] },
      sourceIPs: ['127.0.0.1'],
      userAgent: 'kubectl/v1.34.0',
      // a create's URL names no object: its body does
      objectRef: { resource: 'configmaps', namespace: 'default', name: 'c' },
      responseStatus: { metadata: {}, code: 201 },
      requestObject: { kind: 'ConfigMap', metadata: { name: 'c' } },
      responseObject: { kind: 'ConfigMap', metadata: { name: 'c', uid: 'u' } },
      annotations: { 'authorization.k8s.io/decision': 'allow' },
    });
    expect(auditor.begin({ req, auditID: 'id-2', user: admin, attributes: { kind: 'nonResource', verb: 'get', path: '/healthz' } })).toBeUndefined();
    // Metadata: no bodies, even when the handler hands them over
    const pods = auditor.begin({ req, auditID: 'id-3', user: admin, attributes: { kind: 'resource', verb: 'list', apiGroup: '', resource: 'pods' } });
    await pods?.run(async () => auditResponseText('{"kind":"PodList"}'));
    pods?.complete({ code: 200 });
    expect(events[1]).toMatchObject({ level: 'Metadata' });
    expect(events[1]).not.toHaveProperty('responseObject');
  });

  it("records admission's annotations beside the authorizer's, those of Request level only where the event is logged at it", async () => {
    const events: Record<string, unknown>[] = [];
    const auditor = new Auditor(POLICY, { write: (e) => void events.push(e as Record<string, unknown>) });
    const annotate = () => {
      auditAnnotation('guard.example.com/checked', 'yes');
      auditAnnotation('patch.webhook.admission.k8s.io/round_0_index_0', '{"patch":[]}', 'Request');
    };
    const configmaps = auditor.begin({
      req,
      auditID: 'a',
      user: admin,
      attributes: { kind: 'resource', verb: 'create', apiGroup: '', resource: 'configmaps' },
    });
    await configmaps?.run(async () => annotate());
    configmaps?.complete({ code: 201 }, { allowed: true, reason: 'RBAC' });
    const pods = auditor.begin({ req, auditID: 'b', user: admin, attributes: { kind: 'resource', verb: 'create', apiGroup: '', resource: 'pods' } });
    await pods?.run(async () => annotate());
    pods?.complete({ code: 201 });
    // outside any audited request: nowhere to go, and no harm done
    annotate();
    expect(events[0]?.annotations).toEqual({
      'authorization.k8s.io/decision': 'allow',
      'authorization.k8s.io/reason': 'RBAC',
      'guard.example.com/checked': 'yes',
      'patch.webhook.admission.k8s.io/round_0_index_0': '{"patch":[]}',
    });
    expect(events[1]).toMatchObject({ level: 'Metadata', annotations: { 'guard.example.com/checked': 'yes' } });
    expect(events[1]?.annotations).not.toHaveProperty('patch.webhook.admission.k8s.io/round_0_index_0');
  });

  it('refuses a policy with a level it does not know', () => {
    expect(() => parseAuditPolicy('kind: Policy\nrules: [{level: Everything}]')).toThrow(/rules\[0\]\.level: Everything is none of/);
  });

  it('rotates the log past its size, keeping the backups asked for', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sk-audit-'));
    try {
      const writer = new AuditLogWriter({ path: join(dir, 'audit.log'), maxSizeMB: 0.001, maxBackups: 2, maxAgeDays: 0, log: silentLogger });
      await writer.open();
      for (let i = 0; i < 12; i++) {
        writer.write({ i, padding: 'x'.repeat(400) });
        await new Promise((r) => setTimeout(r, 5));
      }
      await writer.close();
      const files = await readdir(dir);
      expect(files).toContain('audit.log');
      expect(files.filter((f) => /^audit-.+\.log$/.test(f))).toHaveLength(2);
      // what is kept is the newest: the last event is in it, the first is not
      const kept = (await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')))).join('').trim().split('\n');
      const indices = kept.map((l) => JSON.parse(l).i as number);
      expect(indices).toContain(11);
      expect(indices).not.toContain(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('loses no event written while the log rotates', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sk-audit-'));
    try {
      const writer = new AuditLogWriter({ path: join(dir, 'audit.log'), maxSizeMB: 0.001, maxBackups: 0, maxAgeDays: 0, log: silentLogger });
      await writer.open();
      for (let round = 0; round < 4; round++) {
        // the fourth line starts a rotation; the fifth arrives while it runs
        for (let j = 0; j < 4; j++) writer.write({ i: round * 5 + j, padding: 'x'.repeat(300) });
        await Promise.resolve();
        writer.write({ i: round * 5 + 4 });
        await new Promise((r) => setTimeout(r, 20));
      }
      await writer.close();
      const files = await readdir(dir);
      const lines = (await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')))).join('').trim().split('\n');
      expect(lines.map((l) => JSON.parse(l).i as number).sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('starts a new log when the one it writes is removed from under it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sk-audit-'));
    try {
      const path = join(dir, 'audit.log');
      const writer = new AuditLogWriter({ path, maxSizeMB: 0.001, maxBackups: 0, maxAgeDays: 0, log: silentLogger });
      await writer.open();
      writer.write({ i: 0 });
      await new Promise((r) => setTimeout(r, 20));
      await rm(path);
      for (let i = 1; i <= 4; i++) writer.write({ i, padding: 'x'.repeat(300) });
      await new Promise((r) => setTimeout(r, 20));
      writer.write({ i: 5 });
      await writer.close();
      expect(await readdir(dir)).toEqual(['audit.log']);
      expect((await readFile(path, 'utf8')).trim()).toBe('{"i":5}');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
