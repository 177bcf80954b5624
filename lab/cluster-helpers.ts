// Helpers for the controller's k8s-tier tests: apply manifest files over HTTP (server-side
// dry-run first), run the controller agent as a child process with ServiceAccount
// credentials, and poll for conditions with a deadline.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { labProgram } from './paths.js';
import { parseAllDocuments } from 'yaml';
import { kubeRequest, type KubeCredentials } from './kube-client.js';

/** A Kubernetes object as read from a manifest. */
export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [key: string]: unknown;
}

const plurals: Record<string, string> = {
  Namespace: 'namespaces', ServiceAccount: 'serviceaccounts', ConfigMap: 'configmaps', Service: 'services',
  ClusterRole: 'clusterroles', ClusterRoleBinding: 'clusterrolebindings', Role: 'roles', RoleBinding: 'rolebindings',
  Deployment: 'deployments', DaemonSet: 'daemonsets',
  ValidatingAdmissionPolicy: 'validatingadmissionpolicies', ValidatingAdmissionPolicyBinding: 'validatingadmissionpolicybindings',
  CustomResourceDefinition: 'customresourcedefinitions',
};
const clusterScoped = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'CustomResourceDefinition']);

/** Reads every object of a multi-document YAML file. */
export async function readManifest(file: string): Promise<ManifestObject[]> {
  const docs = parseAllDocuments(await readFile(file, 'utf8'));
  const list = Array.isArray(docs) ? docs : [];
  for (const doc of list) if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message ?? 'YAML error'}`);
  return list.map((doc) => doc.toJS() as ManifestObject).filter((o) => o !== null);
}

/** The collection path an object is created in. */
export function collectionPath(object: ManifestObject): string {
  const plural = plurals[object.kind];
  if (plural === undefined) throw new Error(`no path known for kind ${object.kind}`);
  const group = object.apiVersion.includes('/') ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`;
  if (clusterScoped.has(object.kind)) return `${group}/${plural}`;
  return `${group}/namespaces/${object.metadata.namespace ?? 'default'}/${plural}`;
}

/** POSTs an object (with `?dryRun=All` when asked); resolves with the status and body text. */
export async function createObject(admin: KubeCredentials, object: ManifestObject, dryRun: boolean): Promise<{ status: number; text: string }> {
  const response = await kubeRequest(admin, `${collectionPath(object)}${dryRun ? '?dryRun=All&fieldValidation=Strict' : '?fieldValidation=Strict'}`, { method: 'POST', body: object });
  return { status: response.status, text: response.text };
}

/** The outcome of one server-side apply of one object. */
export interface ApplyOutcome {
  readonly object: ManifestObject;
  readonly status: number;
  readonly text: string;
}

/**
 * Server-side applies an object as `kubectl apply --server-side` does (PATCH with
 * `application/apply-patch+yaml`, strict field validation), optionally as a dry run.
 */
export async function applyObject(admin: KubeCredentials, object: ManifestObject, dryRun: boolean): Promise<ApplyOutcome> {
  const query = `?fieldManager=kubectl&force=true&fieldValidation=Strict${dryRun ? '&dryRun=All' : ''}`;
  const path = `${collectionPath(object)}/${encodeURIComponent(object.metadata.name)}${query}`;
  const response = await kubeRequest(admin, path, { method: 'PATCH', body: object, contentType: 'application/apply-patch+yaml' });
  return { object, status: response.status, text: response.text };
}

/**
 * Installs manifest files the way a careful operator would: a server-side dry run of every
 * object first (Namespaces are created for real in between, because namespaced objects
 * cannot be validated in a namespace that does not exist), then the real apply. Throws
 * listing every object the server refused; resolves with the dry-run outcomes.
 */
export async function installManifests(admin: KubeCredentials, files: readonly string[]): Promise<ApplyOutcome[]> {
  const objects = (await Promise.all(files.map(readManifest))).flat();
  const namespaces = objects.filter((o) => o.kind === 'Namespace');
  const others = objects.filter((o) => o.kind !== 'Namespace');
  const refused = (outcomes: readonly ApplyOutcome[]): string[] =>
    outcomes.filter((o) => o.status !== 200 && o.status !== 201).map((o) => `${o.object.kind} ${o.object.metadata.name}: ${o.status} ${o.text.slice(0, 400)}`);
  const dryRuns: ApplyOutcome[] = [];
  for (const object of namespaces) dryRuns.push(await applyObject(admin, object, true));
  let problems = refused(dryRuns);
  if (problems.length > 0) throw new Error(`server-side dry run refused:\n${problems.join('\n')}`);
  problems = refused(await Promise.all(namespaces.map((o) => applyObject(admin, o, false))));
  if (problems.length > 0) throw new Error(`apply refused:\n${problems.join('\n')}`);
  const otherDryRuns = await Promise.all(others.map((o) => applyObject(admin, o, true)));
  dryRuns.push(...otherDryRuns);
  problems = refused(otherDryRuns);
  if (problems.length > 0) throw new Error(`server-side dry run refused:\n${problems.join('\n')}`);
  problems = refused(await Promise.all(others.map((o) => applyObject(admin, o, false))));
  if (problems.length > 0) throw new Error(`apply refused:\n${problems.join('\n')}`);
  return dryRuns;
}

/** A controller process started by a test. */
export interface ControllerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Parsed JSON log lines so far. */
  readonly logs: Record<string, unknown>[];
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** The port of /metrics, /healthz and /readyz (known once it logged its start). */
  metricsPort(): Promise<number>;
  /** Reads one counter or gauge from /metrics (sum over label sets matching `labels`). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

/** The Node flags the image runs vipcast with (see the Dockerfile's ENTRYPOINT). */
export const imageNodeFlags = ['--max-semi-space-size=2'] as const;

/**
 * Starts `vipcast controller` with the image's Node flags and these arguments: by default
 * the compiled test agent (which loads only the controller), or `entry`, e.g.
 * `['bin/vipcast.js', 'controller']` to run the program exactly as the image does.
 */
export function startController(args: readonly string[], entry: readonly string[] = [labProgram('controller')]): ControllerProcess {
  return startLogged(process.execPath, [...imageNodeFlags, ...entry, '--metrics-address=127.0.0.1:0', ...args], 'controller started');
}

/**
 * Starts a vipcast program as `command argv` (node, or `docker run` of the image) whose JSON
 * log says `startedMsg` with its metrics port once it serves; collects its log lines.
 */
export function startLogged(command: string, argv: readonly string[], startedMsg: string): ControllerProcess {
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${command} did not start`);
  const logs: Record<string, unknown>[] = [];
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let newline;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line, level: 'unparsed' });
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => logs.push({ level: 'stderr', msg: chunk.toString('utf8') }));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const metricsPort = async (): Promise<number> => {
    const entry = await waitFor(() => logs.find((l) => l['msg'] === startedMsg), 20_000, `the log line "${startedMsg}"`);
    return Number(entry['metricsPort']);
  };
  return {
    child,
    pid: child.pid,
    logs,
    exited,
    metricsPort,
    metric: async (name, labels = {}) => {
      const port = await metricsPort();
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      let sum = 0;
      for (const line of text.split('\n')) {
        const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
        if (!match || match[1] !== name) continue;
        const labelText = match[2] ?? '';
        if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) sum += Number(match[3]);
      }
      return sum;
    },
  };
}

/** Stops a controller the test started (by its PID) and waits for it to exit. */
export async function stopController(controller: ControllerProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
  if (controller.child.exitCode === null && controller.child.signalCode === null) process.kill(controller.pid, signal);
  return controller.exited;
}

/** Polls `probe` until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  while (performance.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError === undefined ? '' : ` (last error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)})`}`);
}
