// ValidatingAdmissionPolicy with the real kubectl: a policy whose limit
// comes from a ConfigMap param refuses a Deployment over it (Deny), a second
// binding only warns (Warn), a messageExpression words the refusal, and a
// policy whose CEL does not compile is refused; an Audit binding's failures
// and a policy's auditAnnotations land in the audit log; a policy for
// autoscaling/v1 judges autoscaling/v2 writes converted to v1 (matchPolicy
// Equivalent), one of matchPolicy Exact leaves them alone.
// MutatingAdmissionPolicy (v1beta1): an apply configuration built from a param
// merges into ConfigMaps and into a Deployment's containers by name; a JSON
// patch caps replicas and writes an escaped annotation key; a policy that
// fails refuses the write under Fail and is passed by under Ignore; a policy
// that matches DELETE or has no mutations is refused.
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

const MUTATING = `
apiVersion: v1
kind: Namespace
metadata: {name: mutated}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: team, namespace: mutated}
data: {team: blue}
---
apiVersion: admissionregistration.k8s.io/v1beta1
kind: MutatingAdmissionPolicy
metadata: {name: team-label.example.com}
spec:
  paramKind: {apiVersion: v1, kind: ConfigMap}
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}]
    namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: mutated}}
  matchConditions: [{name: not-the-param, expression: "object.metadata.name != 'team'"}]
  variables: [{name: team, expression: "params.data.team"}]
  reinvocationPolicy: Never
  mutations:
  - patchType: ApplyConfiguration
    applyConfiguration:
      expression: >
        Object{metadata: Object.metadata{labels: Object.metadata.labels{team: variables.team}}}
---
apiVersion: admissionregistration.k8s.io/v1beta1
kind: MutatingAdmissionPolicyBinding
metadata: {name: team-label}
spec:
  policyName: team-label.example.com
  paramRef: {name: team, namespace: mutated, parameterNotFoundAction: Deny}
---
apiVersion: admissionregistration.k8s.io/v1beta1
kind: MutatingAdmissionPolicy
metadata: {name: deployment-defaults.example.com}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}]
    namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: mutated}}
  reinvocationPolicy: IfNeeded
  mutations:
  - patchType: ApplyConfiguration
    applyConfiguration:
      expression: >
        Object{spec: Object.spec{template: Object.spec.template{spec: Object.spec.template.spec{
          containers: [Object.spec.template.spec.containers{name: "app", imagePullPolicy: "Always"}]}}}}
  - patchType: JSONPatch
    jsonPatch:
      expression: >
        [
          JSONPatch{op: "replace", path: "/spec/replicas", value: object.spec.replicas > 2 ? 2 : object.spec.replicas},
          JSONPatch{op: "add", path: "/metadata/annotations/" + jsonpatch.escapeKey("example.com/asked"), value: string(object.spec.replicas)}
        ]
---
apiVersion: admissionregistration.k8s.io/v1beta1
kind: MutatingAdmissionPolicyBinding
metadata: {name: deployment-defaults}
spec: {policyName: deployment-defaults.example.com}
`;

describe('MutatingAdmissionPolicy', () => {
  it('merges an apply configuration from a param, and applies a JSON patch after it, on create and update', async () => {
    const applied = await api.kubectlResult(['apply', '-f', '-'], MUTATING);
    expect(applied.code, applied.stderr).toBe(0);
    await expect
      .poll(
        async () => {
          const name = `labelled-${Date.now()}`;
          await api.kubectl('create', 'configmap', name, '-n', 'mutated', '--from-literal=k=v');
          return api.kubectl('get', 'configmap', name, '-n', 'mutated', '-o', 'jsonpath={.metadata.labels.team}');
        },
        { timeout: 10_000 },
      )
      .toBe('blue');
    // the param itself is left alone by the match condition
    expect(await api.kubectl('get', 'configmap', 'team', '-n', 'mutated', '-o', 'jsonpath={.metadata.labels}')).toBe('');
    const deploy = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: mutated, annotations: {note: kept}}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: 'busybox:1.36'}, {name: side, image: 'busybox:1.36'}]}
`;
    const created = await api.kubectlResult(['apply', '-f', '-'], deploy);
    expect(created.code, created.stderr).toBe(0);
    const got = JSON.parse(await api.kubectl('get', 'deployment', 'web', '-n', 'mutated', '-o', 'json')) as {
      metadata: { annotations: Record<string, string> };
      spec: { replicas: number; template: { spec: { containers: { name: string; image: string; imagePullPolicy: string }[] } } };
    };
    expect(got.spec.replicas).toBe(2);
    expect(got.metadata.annotations).toMatchObject({ note: 'kept', 'example.com/asked': '3' });
    // merged by name: the named container changed and kept its image, the other one untouched
    expect(got.spec.template.spec.containers.map((c) => [c.name, c.image, c.imagePullPolicy])).toEqual([
      ['app', 'busybox:1.36', 'Always'],
      ['side', 'busybox:1.36', 'IfNotPresent'],
    ]);
    const scaled = await api.kubectlResult(['patch', 'deployment', 'web', '-n', 'mutated', '--type=merge', '-p', '{"spec":{"replicas":7}}']);
    expect(scaled.code, scaled.stderr).toBe(0);
    expect(await api.kubectl('get', 'deployment', 'web', '-n', 'mutated', '-o', 'jsonpath={.spec.replicas}')).toBe('2');
  });

  it('refuses the write when a policy fails under Fail, and passes it by under Ignore', async () => {
    const failing = (name: string, failurePolicy: string) => `apiVersion: admissionregistration.k8s.io/v1beta1
kind: MutatingAdmissionPolicy
metadata: {name: ${name}}
spec:
  failurePolicy: ${failurePolicy}
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [secrets]}]
    namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: mutated}}
  reinvocationPolicy: Never
  mutations:
  - patchType: JSONPatch
    jsonPatch: {expression: '[JSONPatch{op: "test", path: "/data/missing", value: "x"}]'}
---
apiVersion: admissionregistration.k8s.io/v1beta1
kind: MutatingAdmissionPolicyBinding
metadata: {name: ${name}}
spec: {policyName: ${name}}
`;
    const ignored = await api.kubectlResult(['apply', '-f', '-'], failing('lenient.example.com', 'Ignore'));
    expect(ignored.code, ignored.stderr).toBe(0);
    const passes = await api.kubectlResult(['create', 'secret', 'generic', 'passes', '-n', 'mutated', '--from-literal=k=v']);
    expect(passes.code, passes.stderr).toBe(0);
    const strict = await api.kubectlResult(['apply', '-f', '-'], failing('strict.example.com', 'Fail'));
    expect(strict.code, strict.stderr).toBe(0);
    await expect
      .poll(async () => (await api.kubectlResult(['create', 'secret', 'generic', `refused-${Date.now()}`, '-n', 'mutated', '--from-literal=k=v'])).stderr, {
        timeout: 10_000,
      })
      .toContain("policy 'strict.example.com' with binding 'strict.example.com' denied request:");
    await api.kubectl('delete', 'mutatingadmissionpolicybinding', 'strict.example.com', 'lenient.example.com');
  });

  it('refuses a policy that matches DELETE, has no mutations or no reinvocationPolicy, or does not compile', async () => {
    const r = await api.kubectlResult(
      ['apply', '-f', '-'],
      `apiVersion: admissionregistration.k8s.io/v1beta1
kind: MutatingAdmissionPolicy
metadata: {name: broken.example.com}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [DELETE], resources: [pods]}]
`,
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.matchConstraints.resourceRules[0].operations[0]: Unsupported value: "DELETE"');
    expect(r.stderr).toContain('spec.mutations: Required value');
    expect(r.stderr).toContain('spec.reinvocationPolicy: Required value');
    const bad = await api.kubectlResult(
      ['apply', '-f', '-'],
      `apiVersion: admissionregistration.k8s.io/v1beta1
kind: MutatingAdmissionPolicy
metadata: {name: broken.example.com}
spec:
  matchConstraints: {resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}]}
  reinvocationPolicy: Never
  mutations: [{patchType: ApplyConfiguration, applyConfiguration: {expression: "Object{spec: 1 +}"}}]
`,
    );
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('spec.mutations[0].applyConfiguration.expression: Invalid value: "Object{spec: 1 +}": compilation failed');
  });
});
