import { describe, expect, it } from 'vitest';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { containerSecurityContext, runAsNonRootViolation } from './security-context.ts';

const ns = { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } as const;
const pod = (podSc: object, c: Partial<Container> = {}): { pod: Pod; c: Container } => {
  const container = { name: 'app', image: 'busybox', ...c } as Container;
  return { pod: { metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, spec: { securityContext: podSc, containers: [container] } } as Pod, c: container };
};

describe('container security context', () => {
  it("takes the container's settings over the pod's, and adds the pod's groups and fsGroup", () => {
    const { pod: p, c } = pod(
      { runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [4000], fsGroup: 2000, seccompProfile: { type: 'RuntimeDefault' } },
      { securityContext: { runAsUser: 1001, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } } },
    );
    expect(containerSecurityContext(p, c, ns)).toEqual({
      namespaceOptions: ns,
      privileged: false,
      readonlyRootfs: false,
      runAsUser: { value: 1001 },
      runAsGroup: { value: 3000 },
      supplementalGroups: [4000, 2000],
      capabilities: { addCapabilities: ['NET_BIND_SERVICE'], dropCapabilities: ['ALL'] },
      noNewPrivs: true,
      seccomp: { profileType: 'RuntimeDefault' },
    });
  });

  it('leaves seccomp unconfined without a profile, and names a Localhost one', () => {
    expect(containerSecurityContext(pod({}).pod, pod({}).c, ns).seccomp).toEqual({ profileType: 'Unconfined' });
    const { pod: p, c } = pod({}, { securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/audit.json' } } });
    expect(containerSecurityContext(p, c, ns).seccomp).toEqual({ profileType: 'Localhost', localhostRef: 'profiles/audit.json' });
  });
});

describe('runAsNonRoot', () => {
  it('holds for a non-zero user, set or from the image', () => {
    expect(runAsNonRootViolation(pod({ runAsNonRoot: true, runAsUser: 1000 }).pod, pod({}).c, {})).toBeUndefined();
    expect(runAsNonRootViolation(pod({ runAsNonRoot: true }).pod, pod({}).c, { uid: 65534 })).toBeUndefined();
    expect(runAsNonRootViolation(pod({}).pod, pod({}).c, { uid: 0 })).toBeUndefined();
  });

  it("refuses root in the kubelet's words", () => {
    const { pod: p, c } = pod({ runAsNonRoot: true });
    expect(runAsNonRootViolation(p, c, {})).toBe('container has runAsNonRoot and image will run as root (pod: "p_ns(u1)", container: app)');
    expect(runAsNonRootViolation(p, c, { username: 'nobody' })).toBe(
      'container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root (pod: "p_ns(u1)", container: app)',
    );
    expect(runAsNonRootViolation(pod({ runAsNonRoot: true, runAsUser: 0 }).pod, c, {})).toBe(
      'container\'s runAsUser breaks non-root policy (pod: "p_ns(u1)", container: app)',
    );
  });
});
