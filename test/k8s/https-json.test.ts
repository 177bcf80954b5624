// The one HTTPS transport (src/k8s/https-json.ts) against a loopback HTTPS server with a test
// PKI, for what a real API server does not do on demand: answers that are not JSON, a stream
// that sends a bad line, an answer that never ends, a certificate for another name. The
// clients on top of it (rest.ts, the control-plane agent's, the tests') run against the real
// kube-apiserver in the rest of this tier.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, type TestPki } from '../../lab/certs.js';
import { sendJson, StreamStatusError, streamJsonLines, USER_AGENT, type JsonRequest } from '../../src/k8s/https-json.js';
import { VERSION } from '../../src/version.js';

let dir: string;
let pki: TestPki;
let server: Server;
let base: string;
const seen: { method: string; url: string; headers: Record<string, unknown>; body: string }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vipcast-https-json-'));
  pki = await createTestPki(dir);
  server = createServer({ cert: pki.serving.cert, key: pki.serving.key }, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const path = new URL(req.url ?? '/', 'https://x').pathname;
      if (path === '/json') res.writeHead(201, { 'Content-Type': 'application/json' }).end(JSON.stringify({ echo: body === '' ? null : (JSON.parse(body) as unknown) }));
      else if (path === '/text') res.writeHead(500).end('not json');
      else if (path === '/hang') res.writeHead(200).write('{');
      else if (path === '/trickle') {
        // A byte every 100 ms for 1.5 s: never silent for long, but slow to finish.
        res.writeHead(200);
        let sent = 0;
        const timer = setInterval(() => {
          sent += 1;
          if (sent < 15) res.write(' ');
          else {
            clearInterval(timer);
            res.end('{"done":true}');
          }
        }, 100);
        res.on('close', () => clearInterval(timer));
      }
      else if (path === '/stream') res.writeHead(200).end('{"type":"ADDED","n":1}\n\n{"type":"MODIFIED","n":2}\n');
      else if (path === '/stream-bad') res.writeHead(200).end('{"type":"ADDED"}\n{oops\n{"type":"ADDED"}\n');
      else if (path === '/stream-forever') res.writeHead(200).write('{"type":"ADDED"}\n');
      else if (path === '/stream-cut') {
        res.writeHead(200).write('{"type":"ADDED"}\n');
        setTimeout(() => res.socket?.destroy(), 100);
      }
      else if (path === '/forbidden') res.writeHead(403, { 'Content-Type': 'application/json' }).end('{"kind":"Status","reason":"Forbidden"}');
      else res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

const to = (path: string, patch: Partial<JsonRequest> = {}): JsonRequest => ({ method: 'GET', url: new URL(path, base), tls: { ca: pki.ca.cert, agent: false }, timeoutMs: 5_000, ...patch });

describe('sendJson', () => {
  it('sends the body as JSON with its length and the given headers, and parses the answer', async () => {
    const response = await sendJson(to('/json?x=1', { method: 'PATCH', body: { a: 'é' }, contentType: 'application/merge-patch+json', headers: { Authorization: 'Bearer t' } }));
    expect(response).toEqual({ status: 201, text: '{"echo":{"a":"é"}}', json: { echo: { a: 'é' } } });
    const request = seen.at(-1);
    expect(request?.method).toBe('PATCH');
    expect(request?.url).toBe('/json?x=1');
    expect(request?.headers).toMatchObject({ 'content-type': 'application/merge-patch+json', 'content-length': '10', accept: 'application/json', authorization: 'Bearer t' });
    expect(request?.headers['user-agent']).toBe(`vipcast/${VERSION}`);
  });

  it('names vipcast as the User-Agent unless the request gives its own', async () => {
    await sendJson(to('/json', { headers: { 'User-Agent': `${USER_AGENT} (vipcast-speaker)` } }));
    expect(seen.at(-1)?.headers['user-agent']).toBe(`vipcast/${VERSION} (vipcast-speaker)`);
  });

  it('resolves any status, with the text and no JSON when the body is not JSON', async () => {
    expect(await sendJson(to('/text'))).toEqual({ status: 500, text: 'not json', json: undefined });
  });

  it('abandons a connection silent for the timeout, and an answer slower than the deadline, naming the request', async () => {
    const started = Date.now();
    await expect(sendJson(to('/hang?x=1', { timeoutMs: 300 }))).rejects.toThrow(/^GET \/hang\?x=1 timed out after 300 ms$/);
    expect(Date.now() - started).toBeLessThan(4_000);
    // A slow answer that keeps sending is not silent: the timeout lets it finish, a deadline does not.
    expect((await sendJson(to('/trickle', { timeoutMs: 300 }))).json).toEqual({ done: true });
    await expect(sendJson(to('/trickle', { timeoutMs: 300, deadlineMs: 500 }))).rejects.toThrow(/^GET 127\.0\.0\.1:\d+\/trickle took longer than 500 ms$/);
  });

  it('checks the server certificate against the name it is given, not the address dialled', async () => {
    // The serving certificate names 127.0.0.1 and localhost, not "kubernetes".
    await expect(sendJson(to('/json', { tls: { ca: pki.ca.cert, agent: false, servername: 'kubernetes' } }))).rejects.toThrow(/kubernetes/);
    await expect(sendJson(to('/json', { tls: { agent: false } }))).rejects.toThrow(/certificate/);
  });
});

describe('streamJsonLines', () => {
  it('passes each line\'s value in order, skipping blank lines, and resolves when the server ends', async () => {
    const values: unknown[] = [];
    await streamJsonLines(to('/stream'), (value) => void values.push(value)).done;
    expect(values).toEqual([
      { type: 'ADDED', n: 1 },
      { type: 'MODIFIED', n: 2 },
    ]);
  });

  it('ends with an error naming a line that is not JSON, or one the caller refuses, and passes nothing after it', async () => {
    const values: unknown[] = [];
    await expect(streamJsonLines(to('/stream-bad'), (value) => void values.push(value)).done).rejects.toThrow('GET /stream-bad: the stream sent a line that is not JSON: {oops');
    expect(values).toEqual([{ type: 'ADDED' }]);
    await expect(streamJsonLines(to('/stream'), () => 'a line that is not an event').done).rejects.toThrow('the stream sent a line that is not an event: {"type":"ADDED","n":1}');
  });

  it('rejects when the connection is cut before the server ends the stream, after the values that came', async () => {
    const values: unknown[] = [];
    await expect(streamJsonLines(to('/stream-cut'), (value) => void values.push(value)).done).rejects.toThrow(/stream-cut/);
    expect(values).toEqual([{ type: 'ADDED' }]);
  });

  it('rejects a non-2xx answer with its status and body', async () => {
    const error: unknown = await streamJsonLines(to('/forbidden'), () => undefined).done.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamStatusError);
    expect((error as StreamStatusError).response).toMatchObject({ status: 403, json: { reason: 'Forbidden' } });
  });

  it('resolves when aborted, after the values that came before', async () => {
    const values: unknown[] = [];
    const stream = streamJsonLines(to('/stream-forever'), (value) => {
      values.push(value);
      stream.abort();
      return undefined;
    });
    await stream.done;
    expect(values).toEqual([{ type: 'ADDED' }]);
  });
});
