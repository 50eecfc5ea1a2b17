import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { ObjectSource } from './pod-volumes.ts';

/** Why a container's environment cannot be built (CreateContainerConfigError), in the kubelet's words. */
export class EnvError extends Error {}

export interface ResolvedEnv {
  /** envFrom entries, in order (env entries come after and win) */
  from: { key: string; value: string }[];
  /** env entries whose value comes from a ConfigMap or Secret key */
  values: Map<string, string>;
}

const decode = (v: string) => Buffer.from(v, 'base64').toString();

/** Reads the ConfigMaps and Secrets a container's env and envFrom name. */
export async function resolveEnvRefs(pod: Pod, c: Container, source: ObjectSource): Promise<ResolvedEnv> {
  const ns = pod.metadata?.namespace ?? 'default';
  const out: ResolvedEnv = { from: [], values: new Map() };
  for (const f of c.envFrom ?? []) {
    const prefix = f.prefix ?? '';
    if (f.configMapRef) {
      const cm = await source.configMap(ns, f.configMapRef.name ?? '');
      if (!cm && !f.configMapRef.optional) throw new EnvError(`configmap "${f.configMapRef.name}" not found`);
      for (const [k, v] of Object.entries(cm?.data ?? {})) out.from.push({ key: prefix + k, value: v });
    } else if (f.secretRef) {
      const s = await source.secret(ns, f.secretRef.name ?? '');
      if (!s && !f.secretRef.optional) throw new EnvError(`secret "${f.secretRef.name}" not found`);
      for (const [k, v] of Object.entries(s?.data ?? {})) out.from.push({ key: prefix + k, value: decode(v) });
    }
  }
  for (const e of c.env ?? []) {
    const cmRef = e.valueFrom?.configMapKeyRef;
    const secretRef = e.valueFrom?.secretKeyRef;
    if (cmRef) {
      const cm = await source.configMap(ns, cmRef.name ?? '');
      if (!cm) {
        if (cmRef.optional) continue;
        throw new EnvError(`configmap "${cmRef.name}" not found`);
      }
      const v = cm.data?.[cmRef.key];
      if (v === undefined) {
        if (cmRef.optional) continue;
        throw new EnvError(`couldn't find key ${cmRef.key} in ConfigMap ${ns}/${cmRef.name}`);
      }
      out.values.set(e.name, v);
    } else if (secretRef) {
      const s = await source.secret(ns, secretRef.name ?? '');
      if (!s) {
        if (secretRef.optional) continue;
        throw new EnvError(`secret "${secretRef.name}" not found`);
      }
      const v = s.data?.[secretRef.key];
      if (v === undefined) {
        if (secretRef.optional) continue;
        throw new EnvError(`couldn't find key ${secretRef.key} in Secret ${ns}/${secretRef.name}`);
      }
      out.values.set(e.name, decode(v));
    }
  }
  return out;
}
