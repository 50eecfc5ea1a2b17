export { admitPod, checkPodTemplate, DEFAULT_POD_SECURITY, type PodSecurityConfig } from './admission.ts';
export { loadPodSecurityConfig, podSecurityDefaultsFile } from './config.ts';
export { evaluatePod, namespacePolicy } from './policy.ts';
