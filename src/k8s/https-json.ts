// The one HTTPS transport under vipcast's API clients: a request whose body and answer are
// JSON, and a streaming GET whose answer is one JSON value per line (a watch). The clients
// on top add what differs between them: src/k8s/rest.ts its credentials and error type;
// src/control-plane/api-client.ts its fixed certificate name, because the control-plane
// agent dials API servers by address and never through the VIP it holds; lab/kube-client.ts
// the raw answers the tests check.
import type { IncomingMessage } from 'node:http';
import { request, type RequestOptions } from 'node:https';
import { VERSION } from '../version.js';

/** Sent unless a request names its own. */
export const USER_AGENT = `vipcast/${VERSION}`;

/** The User-Agent of one program's requests (its field manager), so audit logs tell them apart. */
export function userAgent(program: string): string {
  return `${USER_AGENT} (${program})`;
}

/**
 * How to connect: an agent, or the CA, client certificate and key; the name the server
 * certificate must carry; a Unix socket to dial instead of the URL's host (the tests' HA lab).
 */
export type JsonConnection = Pick<RequestOptions, 'agent' | 'ca' | 'cert' | 'key' | 'servername' | 'socketPath'>;

/** One request. */
export interface JsonRequest {
  readonly method: string;
  /** Where to send it: scheme, host, port, path and query. */
  readonly url: URL;
  /** Headers beside Accept, Content-Type and Content-Length, which this sets (and User-Agent, unless given here). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** Content-Type of the body; `application/json` when omitted. */
  readonly contentType?: string;
  /** How to connect. */
  readonly tls?: JsonConnection;
  /** Milliseconds the connection may stay silent (connecting, or waiting for the next bytes) before the request is abandoned; 0 for no limit. */
  readonly timeoutMs: number;
  /** Milliseconds from start to the end of the answer before the request is abandoned, however busy; none when omitted. */
  readonly deadlineMs?: number;
}

/** An answer, whatever its status. */
export interface JsonResponse {
  readonly status: number;
  /** The body as text. */
  readonly text: string;
  /** The body parsed as JSON; undefined when empty or not JSON. */
  readonly json: unknown;
}

/** A stream's answer was not 2xx. */
export class StreamStatusError extends Error {
  override readonly name = 'StreamStatusError';
  constructor(
    readonly method: string,
    readonly path: string,
    readonly response: JsonResponse,
  ) {
    super(`${method} ${path} → ${response.status}`);
  }
}

/** Parses JSON text; undefined when it is empty or not JSON. */
export function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function begin(r: JsonRequest, onResponse: (res: IncomingMessage) => void, onError: (error: Error) => void): () => void {
  const payload = r.body === undefined ? undefined : JSON.stringify(r.body);
  const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': USER_AGENT, ...r.headers };
  if (payload !== undefined) {
    headers['Content-Type'] = r.contentType ?? 'application/json';
    headers['Content-Length'] = String(Buffer.byteLength(payload));
  }
  const req = request(r.url, { method: r.method, headers, ...r.tls, ...(r.timeoutMs > 0 ? { timeout: r.timeoutMs } : {}) }, onResponse);
  const what = `${r.method} ${r.url.pathname}${r.url.search}`;
  if (r.timeoutMs > 0) req.on('timeout', () => req.destroy(new Error(`${what} timed out after ${r.timeoutMs} ms`)));
  if (r.deadlineMs !== undefined) {
    const timer = setTimeout(() => req.destroy(new Error(`${r.method} ${r.url.host}${r.url.pathname}${r.url.search} took longer than ${r.deadlineMs} ms`)), r.deadlineMs);
    req.on('close', () => clearTimeout(timer));
  }
  req.on('error', onError);
  req.end(payload);
  return () => req.destroy();
}

function collect(res: IncomingMessage, done: (response: JsonResponse) => void, fail: (error: Error) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('error', fail);
  res.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8');
    done({ status: res.statusCode ?? 0, text, json: parseJson(text) });
  });
}

/** Sends one request and resolves with the answer whatever its status; rejects on network errors and after the timeout. */
export function sendJson(r: JsonRequest): Promise<JsonResponse> {
  return new Promise((resolve, reject) => {
    begin(r, (res) => collect(res, resolve, reject), reject);
  });
}

/**
 * Opens a streaming request and passes each line's JSON value to `onValue`, which returns a
 * reason when the value is not one it can take: the stream then ends with that error, as it
 * does for a line that is not JSON. `done` resolves when the server ends the stream or
 * `abort` is called, and rejects on an error, a connection cut before the end, or with
 * StreamStatusError for a non-2xx answer.
 */
export function streamJsonLines(r: JsonRequest, onValue: (value: unknown) => string | undefined): { readonly done: Promise<void>; abort(): void } {
  let aborted = false;
  let cancel: () => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    const fail = (error: Error): void => (aborted ? resolve() : reject(error));
    cancel = begin(
      r,
      (res) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          collect(res, (response) => reject(new StreamStatusError(r.method, r.url.pathname, response)), fail);
          return;
        }
        let pending = '';
        // Why we ended the stream ourselves: reported in place of the cut it causes.
        let refusal: Error | undefined;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          pending += chunk;
          let newline: number;
          while ((newline = pending.indexOf('\n')) >= 0) {
            const line = pending.slice(0, newline);
            pending = pending.slice(newline + 1);
            if (line.trim() === '') continue;
            const value = parseJson(line);
            const refused = value === undefined ? 'a line that is not JSON' : onValue(value);
            if (refused !== undefined) {
              refusal = new Error(`${r.method} ${r.url.pathname}: the stream sent ${refused}: ${line.slice(0, 200)}`);
              fail(refusal);
              res.destroy(refusal);
              return;
            }
          }
        });
        const cut = (): void => fail(refusal ?? new Error(`${r.method} ${r.url.pathname}: the stream's connection was cut`));
        let ended = false;
        res.on('error', (error) => fail(refusal ?? error));
        res.on('aborted', cut);
        res.on('end', () => {
          ended = true;
          resolve();
        });
        // Only an answer the server finished counts as an end; a connection closed before is a cut.
        res.on('close', () => {
          if (!ended) cut();
        });
      },
      fail,
    );
  });
  return {
    done,
    abort: () => {
      aborted = true;
      cancel();
    },
  };
}
