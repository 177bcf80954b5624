// The smallest HTTPS client the k8s tests and the lab need: one JSON request to the apiserver
// with a client certificate or a bearer token, over vipcast's one transport
// (src/k8s/https-json.ts). Tests use it instead of a client library so that what goes over
// the wire is exactly what the test wrote, and they see every answer whatever its status. Also here: kubeconfig files written
// and read for such credentials, and ServiceAccount tokens by TokenRequest.
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { sendJson, streamJsonLines, type JsonConnection } from '../src/k8s/https-json.js';

/** How to reach the apiserver and who to be there. */
export interface KubeCredentials {
  /** Base URL, e.g. `https://127.0.0.1:41234`. */
  readonly server: string;
  /** PEM of the CA that signed the serving certificate. */
  readonly ca: string;
  /** PEM client certificate, for certificate authentication. */
  readonly cert?: string;
  /** PEM client key matching `cert`. */
  readonly key?: string;
  /** Bearer token, for token authentication (e.g. a ServiceAccount token). */
  readonly token?: string;
}

/** Options of one request. */
export interface KubeRequestOptions {
  /** HTTP method; GET when omitted. */
  readonly method?: string;
  /** Body, sent as JSON. */
  readonly body?: unknown;
  /** Content-Type of the body; `application/json` when omitted. */
  readonly contentType?: string;
  /** Milliseconds before the request is abandoned; 15 000 when omitted. */
  readonly timeoutMs?: number;
}

/** A response: status code, raw text and the body parsed as JSON when it is JSON. */
export interface KubeResponse {
  /** HTTP status code. */
  readonly status: number;
  /** Body as text. */
  readonly text: string;
  /** Body parsed as JSON, or `undefined` when it is not JSON. */
  readonly json: unknown;
}

/** Sends one request to `credentials.server + path` and resolves with the response, whatever its status. */
export function kubeRequest(credentials: KubeCredentials, path: string, options: KubeRequestOptions = {}): Promise<KubeResponse> {
  return sendJson({
    method: options.method ?? 'GET',
    url: new URL(path, credentials.server),
    headers: authorization(credentials),
    body: options.body,
    ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
    tls: connection(credentials),
    timeoutMs: options.timeoutMs ?? 15_000,
  });
}

/**
 * Watches `path` (a GET with `watch=true` in its query) and passes each event to `onEvent`;
 * `done` resolves when the server ends the watch or `abort` is called.
 */
export function kubeWatch(credentials: KubeCredentials, path: string, onEvent: (event: { type: string; object: unknown }) => void): { readonly done: Promise<void>; abort(): void } {
  return streamJsonLines(
    {
      method: 'GET',
      url: new URL(path, credentials.server),
      headers: authorization(credentials),
      tls: connection(credentials),
      timeoutMs: 0,
    },
    (value) => {
      const event = value as { type?: unknown; object?: unknown };
      if (typeof event !== 'object' || event === null || typeof event.type !== 'string') return 'a line that is not an event';
      onEvent({ type: event.type, object: event.object });
      return undefined;
    },
  );
}

/** Like {@link kubeRequest}, but rejects unless the status is 2xx; resolves with the parsed body. */
export async function kubeExpectOk(
  credentials: KubeCredentials,
  path: string,
  options: KubeRequestOptions = {},
): Promise<unknown> {
  const response = await kubeRequest(credentials, path, options);
  if (response.status < 200 || response.status > 299) {
    throw new Error(`${options.method ?? 'GET'} ${path} → ${response.status}: ${response.text.slice(0, 500)}`);
  }
  return response.json;
}

function authorization(credentials: KubeCredentials): Record<string, string> {
  return credentials.token === undefined ? {} : { Authorization: `Bearer ${credentials.token}` };
}

/** A connection of its own per request, with the credentials' CA and client certificate. */
function connection(credentials: KubeCredentials): JsonConnection {
  return { agent: false, ca: credentials.ca, ...(credentials.cert === undefined ? {} : { cert: credentials.cert }), ...(credentials.key === undefined ? {} : { key: credentials.key }) };
}

/**
 * Writes a kubeconfig for some credentials (JSON, which kubectl and client libraries read as
 * YAML) and resolves with its path. `cluster` names the cluster and context, `user` the user.
 */
export async function writeKubeconfig(credentials: KubeCredentials, path: string, names: { cluster?: string; user?: string } = {}): Promise<string> {
  const b64 = (pem: string | undefined): string => Buffer.from(pem ?? '').toString('base64');
  const cluster = names.cluster ?? 'vipcast';
  const user = names.user ?? cluster;
  const secret: Record<string, string> =
    credentials.token !== undefined ? { token: credentials.token } : { 'client-certificate-data': b64(credentials.cert), 'client-key-data': b64(credentials.key) };
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: credentials.server, 'certificate-authority-data': b64(credentials.ca) } }],
    users: [{ name: user, user: secret }],
    contexts: [{ name: cluster, context: { cluster, user } }],
    'current-context': cluster,
  };
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return path;
}

/** Reads the credentials of a kubeconfig's current context: the inverse of writeKubeconfig. */
export function readKubeconfig(path: string): KubeCredentials {
  type Fields = Partial<Record<string, string>>;
  const config = parse(readFileSync(path, 'utf8')) as {
    'current-context'?: string;
    contexts?: { name: string; context?: { cluster?: string; user?: string } }[];
    clusters?: { name: string; cluster?: Fields }[];
    users?: { name: string; user?: Fields }[];
  };
  const context = config.contexts?.find((c) => c.name === config['current-context'])?.context;
  const cluster = config.clusters?.find((c) => c.name === context?.cluster)?.cluster;
  const user = config.users?.find((u) => u.name === context?.user)?.user;
  const server = cluster?.['server'];
  if (server === undefined || user === undefined) throw new Error(`${path}: no server and user for the current context (${config['current-context'] ?? 'none'})`);
  const pem = (b64: string | undefined): string => Buffer.from(b64 ?? '', 'base64').toString('utf8');
  const token = user['token'];
  return {
    server,
    ca: pem(cluster?.['certificate-authority-data']),
    ...(token !== undefined ? { token } : { cert: pem(user['client-certificate-data']), key: pem(user['client-key-data']) }),
  };
}

/** A TokenRequest token for a ServiceAccount (which must exist), valid for `seconds`. */
export async function serviceAccountToken(admin: KubeCredentials, namespace: string, name: string, seconds: number): Promise<string> {
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(name)}/token`;
  const answer = await kubeExpectOk(admin, path, {
    method: 'POST',
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: seconds } },
  });
  const token = (answer as { status?: { token?: unknown } } | undefined)?.status?.token;
  if (typeof token !== 'string' || token === '') throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  return token;
}
