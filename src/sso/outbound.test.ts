import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { asResponse, jsonOf, requestIdp } from './outbound.ts';

describe('calls to an IdP', () => {
  let url: string;
  const seen: { method?: string; body: string; headers: IncomingMessage['headers'] }[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ method: req.method, body, headers: req.headers });
      switch (req.url) {
        case '/token':
          res.writeHead(200, { 'content-type': 'application/json', 'x-extra': 'kept' });
          res.end(JSON.stringify({ access_token: 'a', token_type: 'Bearer' }));
          return;
        case '/big-declared':
          res.writeHead(200, { 'content-length': String(600 * 1024) }).end('x'.repeat(600 * 1024));
          return;
        case '/big-chunked':
          res.writeHead(200, { 'content-type': 'application/json' });
          for (let i = 0; i < 600; i++) res.write('x'.repeat(1024));
          res.end();
          return;
        case '/gzip':
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync('{"keys":[]}'));
          return;
        case '/redirect':
          res.writeHead(302, { location: '/token' }).end();
          return;
        case '/hang':
          return;
        default:
          res.writeHead(404).end();
      }
    });
  });
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const deadline = () => AbortSignal.timeout(2_000);

  test('a form POST goes out with its length and headers, and the answer comes back as a standard Response', async () => {
    const form = new URLSearchParams({ code: 'c', grant_type: 'authorization_code' });
    const headers = { 'content-type': 'application/x-www-form-urlencoded' };
    const answer = await requestIdp(`${url}/token`, { method: 'POST', headers, body: form }, deadline());
    const request = seen.at(-1)!;
    assert.deepEqual([request.method, request.body, request.headers['content-length']], ['POST', 'code=c&grant_type=authorization_code', '36']);
    assert.equal(request.headers['accept-encoding'], 'identity', 'a compressed answer is not asked for');
    const response = asResponse(answer);
    assert.ok(response instanceof Response);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-extra'), 'kept');
    assert.deepEqual(await response.json(), { access_token: 'a', token_type: 'Bearer' });
    assert.deepEqual(jsonOf(answer), { access_token: 'a', token_type: 'Bearer' });
  });

  test('an answer over 512 KiB is refused, whether or not it declares its length', async () => {
    for (const path of ['/big-declared', '/big-chunked']) {
      await assert.rejects(requestIdp(`${url}${path}`, {}, deadline()), /oversized/, path);
    }
  });

  test('a compressed answer is refused: it could inflate past the size limit', async () => {
    await assert.rejects(requestIdp(`${url}/gzip`, {}, deadline()), /encoded/);
  });

  test('a redirect is answered as such, never followed', async () => {
    const requests = seen.length;
    const answer = await requestIdp(`${url}/redirect`, {}, deadline());
    assert.equal(answer.status, 302);
    assert.equal(asResponse(answer).headers.get('location'), '/token');
    assert.equal(seen.length, requests + 1, 'one request: the redirect was not followed');
  });

  test('an IdP that does not answer is given up on at the deadline, with its reason', async () => {
    const began = Date.now();
    await assert.rejects(requestIdp(`${url}/hang`, {}, AbortSignal.timeout(200)), { name: 'TimeoutError' });
    assert.ok(Date.now() - began < 2_000);
    const spent = AbortSignal.abort(new DOMException('spent', 'TimeoutError'));
    await assert.rejects(requestIdp(`${url}/token`, {}, spent), { name: 'TimeoutError' });
  });

  test('only http and https are spoken', async () => {
    await assert.rejects(requestIdp('file:///etc/passwd', {}, deadline()), TypeError);
  });
});
