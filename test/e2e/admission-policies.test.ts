// ValidatingAdmissionPolicy with the real kubectl: a policy whose limit
// comes from a ConfigMap param refuses a Deployment over it (Deny), a second
// binding only warns (Warn), a messageExpression words the refusal, and a
// policy whose CEL does not compile is refused; an Audit binding's failures
// and a policy's auditAnnotations land in the audit log; a policy for
// autoscaling/v1 judges autoscaling/v2 writes converted to v1 (matchPolicy
// Equivalent), one of matchPolicy Exact leaves them alone.
import { describe, expect, it } from 'vitest';
import { useTestApiServer } from '../harness/api-server.ts';
import { auditEvents, auditFlags, writeAuditPolicy } from '../harness/audit-log.ts';

const api = useTestApiServer(
  'sk-vap-',
  (dir) => ['--disable-scheduler', '--disable-controllers', ...auditFlags(dir)],
  writeAuditPolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: Metadata\n  resources: [{group: apps}]\n'),
);

const POLICY = `
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: replica-limit.example.com}
spec:
  failurePolicy: Fail
  paramKind: {apiVersion: v1, kind: ConfigMap}
  matchConstraints:
    resourceRules: [{apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}]
  variables:
  - {name: limit, expression: "int(params.data.maxReplicas)"}
  validations:
  - expression: "object.spec.replicas <= variables.limit"
    messageExpression: "'replicas must be at most ' + string(variables.limit) + ', got ' + string(object.spec.replicas)"
    reason: Invalid
---
apiVersion: v1
kind: ConfigMap
metadata: {name: deny-limit, namespace: default}
data: {maxReplicas: "3"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: warn-limit, namespace: default}
data: {maxReplicas: "1"}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replica-deny}
spec:
  policyName: replica-limit.example.com
  validationActions: [Deny]
  paramRef: {name: deny-limit, namespace: default, parameterNotFoundAction: Deny}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replica-warn}
spec:
  policyName: replica-limit.example.com
  validationActions: [Warn]
  paramRef: {name: warn-limit, namespace: default, parameterNotFoundAction: Deny}
`;

const deployment = (name: string, replicas: number) => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: default}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec: {containers: [{name: c, image: busybox}]}
`;

describe('ValidatingAdmissionPolicy', () => {
  it("refuses a Deployment over the param's bound, warns under the Warn binding, and lets one within both pass", async () => {
    const applied = await api.kubectlResult(['apply', '-f', '-'], POLICY);
    expect(applied.code, applied.stderr).toBe(0);
    let refused = { code: 0, stdout: '', stderr: '' };
    await expect
      .poll(
        async () => {
          refused = await api.kubectlResult(['apply', '-f', '-'], deployment('big', 5));
          return refused.code;
        },
        { timeout: 10_000 },
      )
      .not.toBe(0);
    expect(refused.stderr).toContain(
      `The deployments "big" is invalid: : ValidatingAdmissionPolicy 'replica-limit.example.com' with binding 'replica-deny' denied request: replicas must be at most 3, got 5`,
    );
    const warned = await api.kubectlResult(['apply', '-f', '-'], deployment('medium', 2));
    expect(warned.code, warned.stderr).toBe(0);
    expect(warned.stderr).toContain(
      "Warning: Validation failed for ValidatingAdmissionPolicy 'replica-limit.example.com' with binding 'replica-warn': replicas must be at most 1, got 2",
    );
    const small = await api.kubectlResult(['apply', '-f', '-'], deployment('small', 1));
    expect(small.code).toBe(0);
    expect(small.stderr).toBe('');
    // an update over the bound is refused too (the scale subresource is not in the rules, as in Kubernetes)
    const scaled = await api.kubectlResult(['patch', 'deployment', 'small', '--type=merge', '-p', '{"spec":{"replicas":4}}']);
    expect(scaled.code).not.toBe(0);
    expect(scaled.stderr).toContain('replicas must be at most 3, got 4');
  });

  it("records an Audit binding's failures and the policy's audit annotations in the audit log, and lets the write through", async () => {
    const audited = `
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: audited.example.com}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}]
  validations:
  - {expression: "object.metadata.name.startsWith('team-')", message: "names start with team-"}
  auditAnnotations:
  - {key: replicas, valueExpression: "string(object.spec.replicas)"}
  - {key: never, valueExpression: "null"}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: audited-binding}
spec: {policyName: audited.example.com, validationActions: [Audit]}
`;
    const applied = await api.kubectlResult(['apply', '-f', '-'], audited);
    expect(applied.code, applied.stderr).toBe(0);
    const created = async () => (await auditEvents(api.dir)).find((e) => e.verb === 'create' && e.objectRef?.name === 'unprefixed');
    await expect
      .poll(
        async () => {
          await api.kubectlResult(['apply', '-f', '-'], deployment('unprefixed', 1));
          return (await created())?.annotations?.['audited.example.com/replicas'];
        },
        { timeout: 10_000 },
      )
      .toBe('1');
    const annotations = (await created())?.annotations ?? {};
    expect(JSON.parse(annotations['validation.policy.admission.k8s.io/validation_failure'] ?? '[]')).toEqual([
      { message: 'names start with team-', policy: 'audited.example.com', binding: 'audited-binding', expressionIndex: 0, validationActions: ['Audit'] },
    ]);
    expect(annotations).not.toHaveProperty('audited.example.com/never');
    expect((await api.kubectl('get', 'deployment', 'unprefixed', '-o', 'name')).trim()).toBe('deployment.apps/unprefixed');
  });

  it('refuses a policy whose expression does not compile', async () => {
    const r = await api.kubectlResult(
      ['apply', '-f', '-'],
      'apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: broken.example.com}\nspec:\n  validations: [{expression: "object.spec.replicas <="}]\n',
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.validations[0].expression: Invalid value: "object.spec.replicas <=": compilation failed');
  });

  it('judges a v2 autoscaler converted to the v1 its constraints name under Equivalent, and not under Exact', async () => {
    const policy = (name: string, matchPolicy: string) => `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: ${name}}
spec:
  matchConstraints:
    matchPolicy: ${matchPolicy}
    resourceRules: [{apiGroups: [autoscaling], apiVersions: [v1], operations: [CREATE], resources: [horizontalpodautoscalers]}]
  validations:
  - expression: "object.apiVersion == 'autoscaling/v1' && object.spec.targetCPUUtilizationPercentage <= 90"
    message: "${name}: at most 90 %"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: ${name}}
spec: {policyName: ${name}, validationActions: [Deny]}
`;
    const applied = await api.kubectlResult(
      ['apply', '-f', '-'],
      `${policy('equivalent.example.com', 'Equivalent')}---\n${policy('exact.example.com', 'Exact')}`,
    );
    expect(applied.code, applied.stderr).toBe(0);
    const autoscaler = (name: string, utilization: number) => `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: ${name}, namespace: default}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 4
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: ${utilization}}}}]
`;
    await expect
      .poll(async () => (await api.kubectlResult(['apply', '-f', '-'], autoscaler(`hot-${Date.now()}`, 95))).stderr, { timeout: 10_000 })
      .toContain(
        "ValidatingAdmissionPolicy 'equivalent.example.com' with binding 'equivalent.example.com' denied request: equivalent.example.com: at most 90 %",
      );
    const within = await api.kubectlResult(['apply', '-f', '-'], autoscaler('within', 85));
    expect(within.code, within.stderr).toBe(0);
    await api.kubectl('delete', 'validatingadmissionpolicybinding', 'equivalent.example.com', 'exact.example.com');
  });
});
