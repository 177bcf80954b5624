// Where vipcast finds its API server and credentials: a kubeconfig file named on the command
// line, or the in-cluster ServiceAccount. Read by our own code (ADR 0023): client-node's
// KubeConfig loads the library's whole generated API, about 65 MiB of a process that needs
// a URL, a CA and a token. A kubeconfig whose user runs an exec plugin or an auth provider
// (a laptop's, for `vipcast status`) is handed to client-node, imported only then.
import { readFileSync, statSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';

/** How to reach the API server. */
export interface ApiAccess {
  /** `https://host:port`, no trailing slash. */
  readonly server: string;
  /** TLS settings for the connection. */
  readonly tls: ApiTls;
  /** The headers to send with a request now: the bearer token, re-read as its file rotates. */
  headers(): Promise<Readonly<Record<string, string>>>;
  /** Where this came from, for messages. */
  readonly source: string;
}

/** TLS material for the connection to the API server. */
export interface ApiTls {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly servername?: string;
  /** False only with the kubeconfig's insecure-skip-tls-verify. */
  readonly rejectUnauthorized: boolean;
}

/** How to build an ApiAccess: from a file, or (when none is named) from inside a Pod. */
export interface KubeConfigSource {
  /** Path of a kubeconfig file; when absent the in-cluster ServiceAccount is used. */
  readonly kubeconfig?: string | undefined;
}

/** Where a Pod's ServiceAccount credentials are mounted. */
export const serviceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

/** How long a token read from a file is used before the file is read again (kubelet rotates it). */
const tokenRereadMs = 10_000;

/**
 * Loads the API access: the named kubeconfig, else the in-cluster ServiceAccount (token, CA
 * and KUBERNETES_SERVICE_HOST/PORT). Throws with a message naming the file and field when
 * neither can be used.
 */
export async function loadApiAccess(source: KubeConfigSource, env: NodeJS.ProcessEnv = process.env): Promise<ApiAccess> {
  if (source.kubeconfig !== undefined && source.kubeconfig !== '') return kubeconfigAccess(source.kubeconfig);
  if (env['KUBERNETES_SERVICE_HOST']) return inClusterAccess(env);
  throw new Error('no --kubeconfig given and not running in a Pod (KUBERNETES_SERVICE_HOST is unset)');
}

/** The ServiceAccount of the Pod this runs in. */
export function inClusterAccess(env: NodeJS.ProcessEnv = process.env, dir = serviceAccountDir): ApiAccess {
  const host = env['KUBERNETES_SERVICE_HOST'] ?? '';
  const port = env['KUBERNETES_SERVICE_PORT'] ?? '443';
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const ca = readText(join(dir, 'ca.crt'), 'the ServiceAccount CA');
  return { server, tls: { ca, rejectUnauthorized: true }, headers: tokenFileHeaders(join(dir, 'token')), source: `the ServiceAccount in ${dir}` };
}

/** What one kubeconfig user entry says, as far as vipcast reads it itself. */
type Fields = Record<string, unknown>;

/** Reads a kubeconfig file's current context. */
export async function kubeconfigAccess(path: string): Promise<ApiAccess> {
  const text = readText(path, 'the kubeconfig');
  const { server, cluster, user, where } = currentContext(text, path);
  if (user['exec'] !== undefined || user['auth-provider'] !== undefined) return delegatedAccess(path, server);
  const base = dirname(path);
  const fail = (field: string, why: string): never => {
    throw new Error(`${path}: ${where.user}.${field}: ${why}`);
  };
  for (const field of ['as', 'as-groups', 'as-uid', 'as-user-extra']) if (user[field] !== undefined) fail(field, 'impersonation is not supported; use the credentials of the identity itself');
  if (cluster['proxy-url'] !== undefined) throw new Error(`${path}: ${where.cluster}.proxy-url: a proxy is not supported; vipcast connects to the API server directly`);
  const material = (dataField: string, fileField: string, fields: Fields, at: string): string | undefined => {
    const data = fields[dataField];
    if (typeof data === 'string' && data !== '') return Buffer.from(data, 'base64').toString('utf8');
    const file = fields[fileField];
    if (typeof file === 'string' && file !== '') return readText(isAbsolute(file) ? file : join(base, file), `${path}: ${at}.${fileField}`);
    return undefined;
  };
  const ca = material('certificate-authority-data', 'certificate-authority', cluster, where.cluster);
  const cert = material('client-certificate-data', 'client-certificate', user, where.user);
  const key = material('client-key-data', 'client-key', user, where.user);
  if ((cert === undefined) !== (key === undefined)) fail(cert === undefined ? 'client-certificate' : 'client-key', 'a client certificate needs both the certificate and its key');
  const servername = typeof cluster['tls-server-name'] === 'string' ? cluster['tls-server-name'] : undefined;
  const tls: ApiTls = {
    rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(servername === undefined ? {} : { servername }),
  };
  let headers: () => Promise<Record<string, string>> = () => Promise.resolve({});
  if (typeof user['token'] === 'string' && user['token'] !== '') {
    const fixed = { Authorization: `Bearer ${user['token']}` };
    headers = () => Promise.resolve(fixed);
  } else if (typeof user['tokenFile'] === 'string' && user['tokenFile'] !== '') {
    const file = user['tokenFile'];
    headers = tokenFileHeaders(isAbsolute(file) ? file : join(base, file));
  } else if (typeof user['username'] === 'string') {
    const basic = { Authorization: `Basic ${Buffer.from(`${user['username']}:${typeof user['password'] === 'string' ? user['password'] : ''}`).toString('base64')}` };
    headers = () => Promise.resolve(basic);
  }
  return { server, tls, headers, source: path };
}

/** The current context's server, cluster and user entries, with where in the file they are. */
function currentContext(text: string, path: string): { server: string; cluster: Fields; user: Fields; where: { cluster: string; user: string } } {
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100 });
  } catch (error) {
    throw new Error(`${path}: not a kubeconfig: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const config = (doc ?? {}) as { 'current-context'?: unknown; contexts?: unknown; clusters?: unknown; users?: unknown };
  const name = config['current-context'];
  if (typeof name !== 'string' || name === '') throw new Error(`${path}: current-context: not set`);
  const entry = (list: unknown, listName: string, wanted: unknown, inner: string): { fields: Fields; at: string } => {
    const items = Array.isArray(list) ? (list as { name?: unknown; [key: string]: unknown }[]) : [];
    const index = items.findIndex((item) => item?.name === wanted);
    const fields = items[index]?.[inner];
    if (index < 0 || typeof fields !== 'object' || fields === null) throw new Error(`${path}: ${listName}: no entry named ${JSON.stringify(wanted)} (from current-context ${JSON.stringify(name)})`);
    return { fields: fields as Fields, at: `${listName}[${index}].${inner}` };
  };
  const context = entry(config.contexts, 'contexts', name, 'context');
  const cluster = entry(config.clusters, 'clusters', context.fields['cluster'], 'cluster');
  const user = context.fields['user'] === undefined ? { fields: {}, at: 'users[?]' } : entry(config.users, 'users', context.fields['user'], 'user');
  const server = cluster.fields['server'];
  if (typeof server !== 'string' || !/^https:\/\/[^/]+/.test(server)) throw new Error(`${path}: ${cluster.at}.server: ${JSON.stringify(server)} is not an https:// URL`);
  return { server: server.replace(/\/+$/, ''), cluster: cluster.fields, user: user.fields, where: { cluster: cluster.at, user: user.at } };
}

/** An exec plugin or auth provider: client-node runs it, loaded only for such a kubeconfig. */
async function delegatedAccess(path: string, server: string): Promise<ApiAccess> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  const options = async (): Promise<{ tls: ApiTls; headers: Record<string, string> }> => {
    const opts: RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    const pem = (value: unknown): string | undefined => (Buffer.isBuffer(value) ? value.toString('utf8') : typeof value === 'string' ? value : undefined);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(opts.headers ?? {})) if (typeof value === 'string') headers[name] = value;
    const ca = pem(opts.ca);
    const cert = pem(opts.cert);
    const key = pem(opts.key);
    const tls: ApiTls = { rejectUnauthorized: kc.getCurrentCluster()?.skipTLSVerify !== true, ...(ca === undefined ? {} : { ca }), ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }) };
    return { tls, headers };
  };
  const first = await options();
  return { server, tls: first.tls, headers: async () => (await options()).headers, source: `${path} (through its exec plugin or auth provider)` };
}

/** Headers with the bearer token in a file, read again once it is older than 10 s. */
function tokenFileHeaders(path: string): () => Promise<Record<string, string>> {
  let cached: { headers: Record<string, string>; readAt: number } | undefined;
  return () => {
    const now = performance.now();
    if (!cached || now - cached.readAt > tokenRereadMs) {
      const token = readText(path, 'the token file').trim();
      cached = { headers: { Authorization: `Bearer ${token}` }, readAt: now };
    }
    return Promise.resolve(cached.headers);
  };
}

function readText(path: string, what: string): string {
  try {
    if (!statSync(path).isFile()) throw new Error('not a file');
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${what} (${path}): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** Access from credentials already in hand: a server, its CA, and a client certificate or a token. */
export function staticAccess(credentials: { readonly server: string; readonly ca?: string; readonly cert?: string; readonly key?: string; readonly token?: string }, source = 'given credentials'): ApiAccess {
  const { server, ca, cert, key, token } = credentials;
  const headers = token === undefined ? {} : { Authorization: `Bearer ${token}` };
  const tls: ApiTls = { rejectUnauthorized: true, ...(ca === undefined ? {} : { ca }), ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }) };
  return { server: server.replace(/\/+$/, ''), tls, headers: () => Promise.resolve(headers), source };
}
