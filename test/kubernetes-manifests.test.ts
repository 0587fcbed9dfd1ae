/**
 * The Kubernetes manifests under `deploy/kubernetes`, rendered offline with kustomize (base, the dev and
 * prod overlays) and checked:
 *
 * - every object against the Kubernetes API schemas, unknown and missing fields failing
 *   (`support/kubernetes/validate-manifests.ts`);
 * - what the deployment depends on: probe paths, non-root and read-only pods matching the image's user,
 *   selectors that select the right pods, runners' grace longer than their drain, enrollment instead of
 *   per-runner tokens, no secret values outside the dev overlay, every object in the namespace, KEDA in
 *   prod only, a pinned image in prod.
 *
 * kustomize comes from `$WARREN_KUSTOMIZE`, the pinned cache (installed here when missing) or the PATH;
 * when none runs the suite is skipped with a printed line, except under `WARREN_REQUIRE_KUBECTL=1`
 * (set by `.ci/run`), where it fails.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseDuration } from '../src/cli/commands/task.ts';
import { TASK_STATES } from '../src/core/types.ts';
import { createTestHub } from '../src/hub/testing/create-test-hub.ts';
import { REPO_ROOT } from './support/create-process-harness.ts';
import { findKustomize, type KustomizeRenderer } from './support/kubernetes/find-kustomize.ts';
import { finalUserOf, propertiesOf, readDockerfile } from './support/kubernetes/read-dockerfile.ts';
import {
  checkFieldsAgainstTypes,
  validateAgainstSchemas,
  type KubernetesObject,
  type LabelledObject,
} from './support/kubernetes/validate-manifests.ts';

const KUBERNETES_DIR = path.join(REPO_ROOT, 'deploy', 'kubernetes');
const variants = {
  base: 'base',
  dev: 'overlays/dev',
  prod: 'overlays/prod',
} as const;
type Variant = keyof typeof variants;
const NAMESPACE = 'warren';
const HUB = 'warren-hub';
const RUNNER = 'warren-runner';

/** Kinds that are not namespaced, among those Warren uses. */
const clusterScopedKinds = new Set(['Namespace']);

// --- the shapes read from rendered objects (the schema checks vouch for them) -------------------------

interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    fieldRef?: { fieldPath: string };
  };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string; optional?: boolean } }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  automountServiceAccountToken?: boolean;
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    seccompProfile?: { type: string };
  };
  volumes?: { name: string; emptyDir?: object }[];
}
interface Deployment extends KubernetesObject {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
      spec: PodSpec;
    };
  };
}
interface LabelSelector {
  matchLabels?: Record<string, string>;
}
interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
}
interface NetworkPolicyPort {
  port?: number | string;
  protocol?: string;
}
interface NetworkPolicy extends KubernetesObject {
  spec: {
    podSelector: LabelSelector;
    policyTypes?: string[];
    ingress?: { from?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }[];
    egress?: { to?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }[];
  };
}

/** Whether `selector` (matchLabels only, as Warren's manifests use) selects an object with `labels`. */
function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  return Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
}

const renderer = await findKustomize((line) => console.log(`kustomize: ${line}`));

if ('missing' in renderer) {
  const why = `no kustomize to render deploy/kubernetes with: ${renderer.missing}; run \`node --import tsx test/support/kubernetes/install-kustomize.ts\` or set WARREN_KUSTOMIZE`;
  if (process.env.WARREN_REQUIRE_KUBECTL === '1') {
    describe('Kubernetes manifests', () => {
      it('have kustomize to render them', () => {
        throw new Error(why);
      });
    });
  } else {
    console.warn(`SKIPPED Kubernetes manifests: ${why}`);
    describe.skip('Kubernetes manifests', () => {
      it('render and validate (needs kustomize)', () => undefined);
    });
  }
} else {
  describeManifests(renderer);
}

function describeManifests(kustomize: KustomizeRenderer): void {
  describe('Kubernetes manifests', () => {
    const rendered = {} as Record<Variant, KubernetesObject[]>;
    const dockerfile = readDockerfile(REPO_ROOT);
    const image = dockerfile.stages.at(-1)!;

    beforeAll(async () => {
      console.log(`kustomize: rendering with ${kustomize.description}`);
      for (const [variant, directory] of Object.entries(variants) as [Variant, string][]) {
        const documents = parseAllDocuments(await kustomize.render(path.join(KUBERNETES_DIR, directory)));
        rendered[variant] = documents
          .map((document) => {
            if (document.errors.length > 0) throw new Error(`${variant}: ${document.errors[0]!.message}`);
            return document.toJS() as KubernetesObject | null;
          })
          .filter((object): object is KubernetesObject => object !== null);
      }
    });

    const labelled = (variant: Variant): LabelledObject[] =>
      rendered[variant].map((object) => ({
        label: `${variant}: ${object.kind}/${object.metadata.name}`,
        object,
      }));
    const find = <T extends KubernetesObject>(variant: Variant, kind: string, name: string): T => {
      const found = rendered[variant].find((object) => object.kind === kind && object.metadata.name === name);
      if (!found) throw new Error(`${variant} renders no ${kind}/${name}`);
      return found as T;
    };
    const kindsOf = (variant: Variant) => rendered[variant].map((object) => object.kind);
    const allVariants = Object.keys(variants) as Variant[];
    const containerOf = (deployment: Deployment) => deployment.spec.template.spec.containers[0]!;
    const argValue = (container: Container, flag: string) =>
      container.args?.find((argument) => argument.startsWith(`${flag}=`))?.slice(flag.length + 1);

    it('render offline: base, dev and prod, each with the hub and the runners', () => {
      for (const variant of allVariants) {
        expect(kindsOf(variant), variant).toEqual(
          expect.arrayContaining([
            'Namespace',
            'ConfigMap',
            'Deployment',
            'Service',
            'PodDisruptionBudget',
            'NetworkPolicy',
          ]),
        );
        find<Deployment>(variant, 'Deployment', HUB);
        find<Deployment>(variant, 'Deployment', RUNNER);
      }
    });

    it('are valid against the Kubernetes API schemas', async () => {
      const problems = await validateAgainstSchemas(allVariants.flatMap(labelled));
      expect(problems).toEqual([]);
    });

    it('have no field the API does not know and none missing (type-checked against the models)', () => {
      const problems = checkFieldsAgainstTypes(allVariants.flatMap(labelled), REPO_ROOT);
      expect(problems).toEqual([]);
    });

    it('whose schema checks catch an unknown field, a misplaced one and a missing one', async () => {
      const base = find<Deployment>('base', 'Deployment', HUB);
      const variant = (change: (container: Record<string, unknown>, deployment: Deployment) => void) => {
        const copy = structuredClone(base);
        change(copy.spec.template.spec.containers[0] as unknown as Record<string, unknown>, copy);
        return copy;
      };
      const typo = variant((container) => {
        (container.readinessProbe as Record<string, unknown>).periodSecond = 5;
      });
      const misplaced = variant((_container, deployment) => {
        (deployment.spec as Record<string, unknown>).terminationGracePeriodSeconds = 660;
      });
      const nameless = variant((container) => {
        delete container.name;
      });

      expect(
        checkFieldsAgainstTypes(
          [
            { label: 'typo', object: typo },
            { label: 'misplaced', object: misplaced },
            { label: 'nameless', object: nameless },
          ],
          REPO_ROOT,
        ),
      ).toEqual([
        expect.stringMatching(
          /^typo: spec\.template\.spec\.containers\[0\]\.readinessProbe\.periodSecond: .*known properties/,
        ),
        expect.stringMatching(/^misplaced: spec\.terminationGracePeriodSeconds: .*known properties/),
        expect.stringMatching(
          /^nameless: spec\.template\.spec\.containers\[0\]: Property '"name"' is missing/,
        ),
      ]);
      expect(await validateAgainstSchemas([{ label: 'nameless', object: nameless }])).toEqual([
        expect.stringMatching(/^nameless: .*containers\/0 must have required property name/),
      ]);
    });

    it('put every namespaced object in the warren namespace', () => {
      for (const variant of allVariants) {
        for (const object of rendered[variant]) {
          const expected = clusterScopedKinds.has(object.kind) ? undefined : NAMESPACE;
          expect(object.metadata.namespace, `${variant}: ${object.kind}/${object.metadata.name}`).toBe(
            expected,
          );
        }
        expect(find(variant, 'Namespace', NAMESPACE)).toBeDefined();
      }
    });

    it('keep secret values out of base and prod; dev generates obviously fake ones', () => {
      for (const variant of ['base', 'prod'] as const) {
        expect(kindsOf(variant), variant).not.toContain('Secret');
      }
      const devSecrets = rendered.dev.filter((object) => object.kind === 'Secret');
      expect(devSecrets.map((secret) => secret.metadata.name)).toEqual([
        expect.stringMatching(/^warren-secrets-/),
      ]);
      const data = (devSecrets[0] as KubernetesObject & { data: Record<string, string> }).data;
      expect(Object.keys(data).sort()).toEqual([
        'WARREN_ADMIN_TOKEN',
        'WARREN_DATABASE_URL',
        'WARREN_ENROLLMENT_TOKEN',
      ]);
      for (const [key, encoded] of Object.entries(data)) {
        expect(Buffer.from(encoded, 'base64').toString('utf8'), key).toMatch(/dev-only-fake/);
      }
      // No container carries a secret as a literal value: secrets come from Secret references only.
      for (const variant of allVariants) {
        for (const name of [HUB, RUNNER]) {
          for (const variable of containerOf(find<Deployment>(variant, 'Deployment', name)).env ?? []) {
            if (/TOKEN|PASSWORD|SECRET|DATABASE_URL|API_KEY/.test(variable.name)) {
              expect(variable.value, `${variant} ${name} ${variable.name}`).toBeUndefined();
              expect(variable.valueFrom?.secretKeyRef?.name).toMatch(/^warren-secrets/);
            }
          }
        }
      }
    });

    it('probe the hub: readiness /readyz, liveness and startup /healthz, on the named http port', () => {
      for (const variant of allVariants) {
        const hub = containerOf(find<Deployment>(variant, 'Deployment', HUB));
        expect(hub.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
        expect(hub.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
        expect(hub.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
        const port = hub.ports?.find((candidate) => candidate.name === 'http')?.containerPort;
        // The hub listens where the probes look: the image's default command and the manifest's args agree.
        expect(hub.args?.slice(0, 4)).toEqual(['up', '--no-runner', '--host', '0.0.0.0']);
        expect(hub.args?.[hub.args.indexOf('--port') + 1]).toBe(String(port));
      }
    });

    it('run every pod as the image user: non-root, read-only root, no capabilities, RuntimeDefault seccomp', () => {
      const imageUid = Number(finalUserOf(image)!.split(':')[0]);
      const warrenHome = propertiesOf(image, 'ENV').get('WARREN_HOME');
      for (const variant of allVariants) {
        for (const name of [HUB, RUNNER]) {
          const where = `${variant} ${name}`;
          const pod = find<Deployment>(variant, 'Deployment', name).spec.template.spec;
          expect(pod.securityContext?.runAsNonRoot, where).toBe(true);
          expect(pod.securityContext?.runAsUser, where).toBe(imageUid);
          expect(pod.securityContext?.seccompProfile?.type, where).toBe('RuntimeDefault');
          expect(pod.automountServiceAccountToken, where).toBe(false);
          for (const container of pod.containers) {
            expect(container.securityContext, where).toMatchObject({
              runAsNonRoot: true,
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ['ALL'] },
            });
            expect(container.securityContext?.capabilities?.add, where).toBeUndefined();
            expect(container.resources?.requests?.memory, where).toBeDefined();
            expect(container.resources?.limits?.memory, where).toBeDefined();
            // With a read-only root, WARREN_HOME and /tmp must be writable volumes of the pod.
            const emptyDirs = new Set(
              (pod.volumes ?? []).filter((volume) => volume.emptyDir).map((volume) => volume.name),
            );
            for (const mountPath of [warrenHome, '/tmp']) {
              const mount = container.volumeMounts?.find((candidate) => candidate.mountPath === mountPath);
              expect(mount && emptyDirs.has(mount.name), `${where} ${mountPath}`).toBe(true);
            }
          }
        }
      }
    });

    it('serve the hub pods through the Service on port http 7420, with scrape annotations', () => {
      for (const variant of allVariants) {
        const service = find<
          KubernetesObject & {
            spec: {
              type: string;
              selector: Record<string, string>;
              ports: { name: string; port: number; targetPort: string }[];
            };
          }
        >(variant, 'Service', HUB);
        const hub = find<Deployment>(variant, 'Deployment', HUB);
        const runner = find<Deployment>(variant, 'Deployment', RUNNER);
        expect(service.spec.type).toBe('ClusterIP');
        expect(selects({ matchLabels: service.spec.selector }, hub.spec.template.metadata.labels)).toBe(true);
        expect(selects({ matchLabels: service.spec.selector }, runner.spec.template.metadata.labels)).toBe(
          false,
        );
        expect(service.spec.ports).toEqual([
          expect.objectContaining({ name: 'http', port: 7420, targetPort: 'http' }),
        ]);
        expect(hub.spec.template.metadata.annotations).toMatchObject({
          'prometheus.io/scrape': 'true',
          'prometheus.io/port': '7420',
          'prometheus.io/path': '/metrics',
        });
        for (const deployment of [hub, runner]) {
          expect(selects(deployment.spec.selector, deployment.spec.template.metadata.labels)).toBe(true);
        }
      }
    });

    it('guard each Deployment with a PodDisruptionBudget that selects exactly its pods', () => {
      for (const variant of allVariants) {
        for (const [name, other] of [
          [HUB, RUNNER],
          [RUNNER, HUB],
        ] as const) {
          const budget = find<
            KubernetesObject & { spec: { selector: LabelSelector; maxUnavailable?: number } }
          >(variant, 'PodDisruptionBudget', name);
          const own = find<Deployment>(variant, 'Deployment', name).spec.template.metadata.labels;
          const others = find<Deployment>(variant, 'Deployment', other).spec.template.metadata.labels;
          expect(selects(budget.spec.selector, own), `${variant} ${name}`).toBe(true);
          expect(selects(budget.spec.selector, others), `${variant} ${name}`).toBe(false);
          // A budget that allows no disruption would block every node drain of a one-replica dev cluster.
          expect(budget.spec.maxUnavailable).toBeGreaterThanOrEqual(1);
        }
      }
    });

    it('give runners more grace than their drain, a hub URL that is the Service, and only the enrollment token', () => {
      for (const variant of allVariants) {
        const runner = find<Deployment>(variant, 'Deployment', RUNNER);
        const pod = runner.spec.template.spec;
        const container = containerOf(runner);
        expect(container.args?.slice(0, 2)).toEqual(['runner', 'start']);
        const drain = argValue(container, '--drain-timeout');
        expect(drain, 'the runner passes --drain-timeout explicitly').toBeDefined();
        const drainMs = parseDuration(drain!, '--drain-timeout');
        expect(pod.terminationGracePeriodSeconds! * 1_000).toBeGreaterThan(drainMs);

        const env = new Map((container.env ?? []).map((variable) => [variable.name, variable]));
        const service = find<KubernetesObject & { spec: { ports: { port: number }[] } }>(
          variant,
          'Service',
          HUB,
        );
        const hubUrl = new URL(env.get('WARREN_HUB_URL')?.value ?? '');
        expect([HUB, `${HUB}.${NAMESPACE}`, `${HUB}.${NAMESPACE}.svc`]).toContain(hubUrl.hostname);
        expect(Number(hubUrl.port)).toBe(service.spec.ports[0]!.port);

        // Per-pod identity: enrolled under the pod name, with the shared enrollment token only.
        expect(argValue(container, '--name')).toBe('$(POD_NAME)');
        expect(env.get('POD_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
        expect(env.get('WARREN_ENROLLMENT_TOKEN')?.valueFrom?.secretKeyRef?.key).toBe(
          'WARREN_ENROLLMENT_TOKEN',
        );
        for (const forbidden of [
          'WARREN_RUNNER_TOKEN',
          'WARREN_ADMIN_TOKEN',
          'WARREN_DATABASE_URL',
          'WARREN_TOKEN',
        ]) {
          expect(env.has(forbidden), `${variant} runner has ${forbidden}`).toBe(false);
        }
        for (const source of container.envFrom ?? []) {
          if (source.secretRef) expect(source.secretRef.name).not.toMatch(/^warren-secrets/);
        }
        // The work dir is on the pod's volume, so a restarted container finds its enrolled token.
        const workDir = argValue(container, '--work-dir') ?? '';
        expect(
          container.volumeMounts?.some((mount) => workDir.startsWith(`${mount.mountPath}/`)),
          `work dir ${workDir} on a volume`,
        ).toBe(true);

        const hub = containerOf(find<Deployment>(variant, 'Deployment', HUB));
        const hubEnv = new Set((hub.env ?? []).map((variable) => variable.name));
        for (const required of ['WARREN_DATABASE_URL', 'WARREN_ADMIN_TOKEN', 'WARREN_ENROLLMENT_TOKEN']) {
          expect(hubEnv.has(required), `${variant} hub has ${required}`).toBe(true);
        }
      }
    });

    it('reference ConfigMaps that they render and Secrets that exist or are created by the operator', () => {
      for (const variant of allVariants) {
        const names = (kind: string) =>
          new Set(
            rendered[variant].filter((object) => object.kind === kind).map((object) => object.metadata.name),
          );
        const configMaps = names('ConfigMap');
        const secrets = names('Secret');
        for (const name of [HUB, RUNNER]) {
          const container = containerOf(find<Deployment>(variant, 'Deployment', name));
          for (const source of container.envFrom ?? []) {
            if (source.configMapRef)
              expect(configMaps.has(source.configMapRef.name), source.configMapRef.name).toBe(true);
            if (source.secretRef && !source.secretRef.optional) {
              expect(secrets.has(source.secretRef.name), source.secretRef.name).toBe(true);
            }
          }
          for (const variable of container.env ?? []) {
            const reference = variable.valueFrom?.secretKeyRef;
            if (!reference) continue;
            // dev generates the Secret (with a hash suffix); base and prod leave `warren-secrets` to the operator.
            if (variant === 'dev') expect(secrets.has(reference.name), reference.name).toBe(true);
            else expect(reference.name).toBe('warren-secrets');
          }
        }
      }
    });

    it('let through what Warren needs and select the right pods in their NetworkPolicies', () => {
      for (const variant of allVariants) {
        const hubLabels = find<Deployment>(variant, 'Deployment', HUB).spec.template.metadata.labels;
        const runnerLabels = find<Deployment>(variant, 'Deployment', RUNNER).spec.template.metadata.labels;
        const hubPolicy = find<NetworkPolicy>(variant, 'NetworkPolicy', HUB);
        const runnerPolicy = find<NetworkPolicy>(variant, 'NetworkPolicy', RUNNER);
        const ports = (rules: { ports?: NetworkPolicyPort[] }[] = []) =>
          rules.flatMap((rule) => (rule.ports ?? []).map((port) => `${port.port}/${port.protocol ?? 'TCP'}`));

        expect(selects(hubPolicy.spec.podSelector, hubLabels)).toBe(true);
        expect(selects(hubPolicy.spec.podSelector, runnerLabels)).toBe(false);
        expect(hubPolicy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
        const toHub = (hubPolicy.spec.ingress ?? []).filter((rule) => ports([rule]).includes('7420/TCP'));
        const peers = toHub.flatMap((rule) => rule.from ?? []);
        expect(peers.some((peer) => !peer.namespaceSelector && selects(peer.podSelector, runnerLabels))).toBe(
          true,
        );
        expect(
          peers.some((peer) => peer.namespaceSelector?.matchLabels?.['warren-hub-access'] === 'true'),
        ).toBe(true);
        expect(ports(hubPolicy.spec.egress)).toEqual(
          expect.arrayContaining(['53/UDP', '53/TCP', '5432/TCP']),
        );

        expect(selects(runnerPolicy.spec.podSelector, runnerLabels)).toBe(true);
        expect(selects(runnerPolicy.spec.podSelector, hubLabels)).toBe(false);
        expect(runnerPolicy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
        expect(runnerPolicy.spec.ingress ?? []).toEqual([]);
        const egressToHub = (runnerPolicy.spec.egress ?? []).filter((rule) =>
          (rule.to ?? []).some((peer) => selects(peer.podSelector, hubLabels)),
        );
        expect(ports(egressToHub)).toEqual(['7420/TCP']);
        expect(ports(runnerPolicy.spec.egress)).toEqual(
          expect.arrayContaining(['53/UDP', '53/TCP', '443/TCP', '22/TCP']),
        );
      }
    });

    it('autoscale runners with KEDA on the hubs’ real queue metric in prod only, never with a plain HPA', async () => {
      for (const variant of ['base', 'dev'] as const) expect(kindsOf(variant)).not.toContain('ScaledObject');
      for (const variant of allVariants) expect(kindsOf(variant)).not.toContain('HorizontalPodAutoscaler');

      const scaled = find<
        KubernetesObject & {
          spec: {
            scaleTargetRef: { kind?: string; name: string };
            minReplicaCount: number;
            maxReplicaCount: number;
            triggers: { type: string; metadata: Record<string, string> }[];
          };
        }
      >('prod', 'ScaledObject', RUNNER);
      expect(scaled.spec.scaleTargetRef).toMatchObject({ name: RUNNER });
      expect(scaled.spec.scaleTargetRef.kind ?? 'Deployment').toBe('Deployment');
      expect(scaled.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
      expect(scaled.spec.maxReplicaCount).toBeGreaterThan(scaled.spec.minReplicaCount);
      // KEDA owns the count: the runner Deployment of prod has none of its own.
      expect(find<Deployment>('prod', 'Deployment', RUNNER).spec.replicas).toBeUndefined();

      const trigger = scaled.spec.triggers.find((candidate) => candidate.type === 'prometheus');
      const query = trigger?.metadata.query ?? '';
      const metric = /\b(warren_[a-z_]+)\{/.exec(query)?.[1];
      const states = /state=~?"([^"]+)"/.exec(query)?.[1]?.split('|') ?? [];
      expect(states).toContain('queued');
      for (const state of states) expect(TASK_STATES).toContain(state);
      // The metric and label exist: the hub's own /metrics output has them.
      const hub = await createTestHub();
      try {
        const metrics = await (await hub.request('GET', '/metrics', { token: null })).text();
        expect(metrics).toMatch(new RegExp(`^${metric}\\{[^}]*state="queued"[^}]*\\} \\d+`, 'm'));
      } finally {
        await hub.close();
      }
    });

    it('size dev small and prod larger, with a pinned image in prod', () => {
      const replicas = (variant: Variant, name: string) =>
        find<Deployment>(variant, 'Deployment', name).spec.replicas;
      expect(replicas('dev', HUB)).toBe(1);
      expect(replicas('dev', RUNNER)).toBe(1);
      expect(replicas('base', HUB)).toBeGreaterThanOrEqual(2);
      expect(replicas('prod', HUB)).toBeGreaterThan(replicas('base', HUB)!);
      const memory = (variant: Variant, name: string) =>
        containerOf(find<Deployment>(variant, 'Deployment', name)).resources?.requests?.memory;
      expect(memory('prod', RUNNER)).not.toBe(memory('base', RUNNER));

      for (const object of rendered.prod.filter((candidate) => candidate.kind === 'Deployment')) {
        for (const container of (object as Deployment).spec.template.spec.containers) {
          expect(container.image, container.name).toMatch(/(@sha256:[0-9a-f]{64}|:v?\d+\.\d+\.\d+[\w.-]*)$/);
        }
      }
      expect(containerOf(find<Deployment>('dev', 'Deployment', HUB)).image).toBe('warren:dev');
    });
  });
}
