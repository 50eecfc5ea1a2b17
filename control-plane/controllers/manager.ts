import { EventRecorder, type KeyPair, type Logger, type RestClient, type WorkQueueMetrics } from '../../apimachinery/index.ts';
import type { Controller } from './context.ts';
import { DeploymentController } from './deployment.ts';
import { AdmissionPolicyStatusController } from './admission-policy-status.ts';
import { ClusterRoleAggregationController } from './clusterrole-aggregation.ts';
import { CronJobController } from './cron-job.ts';
import { CsrSigningController } from './csr-signing.ts';
import { CsrApprovingController } from './csr-approving.ts';
import { BootstrapSignerController, TokenCleanerController } from './bootstrap-tokens.ts';
import { DaemonSetController } from './daemon-set.ts';
import { DisruptionController } from './disruption.ts';
import { EndpointSliceController } from './endpoint-slice.ts';
import { EndpointSliceMirroringController } from './endpoint-slice-mirroring.ts';
import { EndpointsController } from './endpoints.ts';
import { GarbageCollector } from './garbage-collector.ts';
import { JobController } from './job.ts';
import { NamespaceController } from './namespace.ts';
import { NamespaceDefaultsController } from './namespace-defaults.ts';
import { NodeIpamController, type NodeIpamOptions } from './node-ipam.ts';
import { DEFAULT_NODE_LIFECYCLE, NodeLifecycleController, type NodeLifecycleOptions } from './node-lifecycle.ts';
import { PersistentVolumeController } from './persistent-volume.ts';
import { HorizontalPodAutoscalerController } from './horizontal-pod-autoscaler.ts';
import { REPLICATION_CONTROLLER_KIND, ReplicaSetController } from './replica-set.ts';
import { ResourceQuotaController } from './resource-quota.ts';
import { StatefulSetController } from './stateful-set.ts';
import { SharedInformers } from './shared-informers.ts';
import { VolumeProtectionController } from './volume-protection.ts';
import { LegacyTokenController } from './service-account-tokens.ts';
import { ServiceLoadBalancerController } from './service-lb.ts';
import type { LegacyClaims } from '../auth/index.ts';

/**
 * The controller manager: every controller over one set of shared informers,
 * started together and stopped by one signal.
 */
export class ControllerManager {
  readonly controllers: Controller[];
  #informers: SharedInformers;

  /** `ca`: the cluster CA, published in every namespace as kube-root-ca.crt and signing approved CSRs */
  constructor(
    client: RestClient,
    ca: KeyPair,
    log: Logger,
    opts: {
      nodeLifecycle?: NodeLifecycleOptions;
      nodeIpam?: NodeIpamOptions;
      signingDurationSeconds?: number;
      /** signs the legacy tokens of service-account-token Secrets (the tokens controller runs only with it) */
      legacyTokens?: (c: LegacyClaims) => Promise<string>;
      /** the process's work queue series (made once: the manager is made again each leadership term) */
      queueMetrics?: WorkQueueMetrics;
      /** how often each HorizontalPodAutoscaler is looked at (--horizontal-pod-autoscaler-sync-period) */
      hpaSyncPeriodMs?: number;
    } = {},
  ) {
    this.#informers = new SharedInformers(client, log.child({ component: 'informers' }));
    const managerLog = log.child({ component: 'controller-manager' });
    // each controller signs its Events with its own component name, as kube-controller-manager's do
    const ctx = (component: string) => ({
      client,
      informers: this.#informers,
      events: new EventRecorder(client, { component }, managerLog),
      queueMetrics: opts.queueMetrics,
      log: managerLog,
    });
    this.controllers = [
      new ReplicaSetController(ctx('replicaset-controller')),
      new ReplicaSetController(ctx('replication-controller'), REPLICATION_CONTROLLER_KIND),
      new HorizontalPodAutoscalerController(ctx('horizontal-pod-autoscaler'), { syncPeriodMs: opts.hpaSyncPeriodMs }),
      new DeploymentController(ctx('deployment-controller')),
      new DaemonSetController(ctx('daemonset-controller')),
      new StatefulSetController(ctx('statefulset-controller')),
      new JobController(ctx('job-controller')),
      new CronJobController(ctx('cronjob-controller')),
      new EndpointSliceController(ctx('endpointslice-controller')),
      new EndpointSliceMirroringController(ctx('endpointslicemirroring-controller')),
      new EndpointsController(ctx('endpoint-controller')),
      new GarbageCollector(ctx('garbage-collector')),
      new NamespaceController(ctx('namespace-controller')),
      new NamespaceDefaultsController(ctx('serviceaccount-controller'), ca.cert),
      new CsrSigningController(ctx('certificate-controller'), { ca, maxSeconds: opts.signingDurationSeconds }),
      new CsrApprovingController(ctx('certificate-controller')),
      new BootstrapSignerController(ctx('bootstrap-signer')),
      new TokenCleanerController(ctx('token-cleaner')),
      new ClusterRoleAggregationController(ctx('clusterrole-aggregation-controller')),
      new AdmissionPolicyStatusController(ctx('validatingadmissionpolicy-status-controller')),
      new DisruptionController(ctx('disruption-controller')),
      new ResourceQuotaController(ctx('resourcequota-controller')),
      new NodeLifecycleController(ctx('node-controller'), opts.nodeLifecycle ?? DEFAULT_NODE_LIFECYCLE),
      new PersistentVolumeController(ctx('persistentvolume-controller')),
      new VolumeProtectionController(ctx('pvc-protection-controller')),
      new ServiceLoadBalancerController(ctx('service-lb-controller')),
      ...(opts.nodeIpam ? [new NodeIpamController(ctx('node-ipam-controller'), opts.nodeIpam)] : []),
      ...(opts.legacyTokens ? [new LegacyTokenController(ctx('tokens-controller'), { issue: opts.legacyTokens, caPem: ca.cert })] : []),
    ];
  }

  async run(signal: AbortSignal): Promise<void> {
    await this.#informers.start(signal);
    await Promise.all(this.controllers.map((c) => c.run(signal)));
  }
}
