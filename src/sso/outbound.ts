import http from 'node:http';
import https from 'node:https';

/** The most an IdP answer may weigh: discovery documents, JWKS and token responses are a few kB. */
const MAX_RESPONSE_BYTES = 512 * 1024;

/** Statuses whose Response cannot carry a body. */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** A request to an IdP, as openid-client describes one to its `customFetch`. */
export interface IdpRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | URLSearchParams | undefined | null;
}

/** An IdP's answer, read whole. */
export interface IdpAnswer {
  status: number;
  statusText: string;
  /** As received: name, value, name, value… */
  rawHeaders: string[];
  body: Buffer;
}

/**
 * Calls an IdP over node:http(s), which costs a fraction of `fetch`'s CPU per
 * call (there is one such call in every sign-in). The call ends by
 * `deadline`, which one sign-in step shares across all its calls, so a slow
 * IdP cannot add several timeouts up; and an answer larger than any honest
 * one fails. A hostile or broken IdP can neither stall nor flood us.
 * Redirects are not followed: nothing in discovery or the back channel
 * redirects, and following one would let an IdP point us anywhere.
 */
export function requestIdp(url: string, init: IdpRequest, deadline: AbortSignal): Promise<IdpAnswer> {
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : target.protocol === 'http:' ? http : undefined;
  if (!transport) return Promise.reject(new TypeError(`unsupported protocol ${target.protocol}`));
  if (deadline.aborted) return Promise.reject(deadline.reason);
  const body = init.body == null ? undefined : String(init.body);
  // Identity only: a compressed answer could be small on the wire and huge once inflated.
  const headers: Record<string, string | number> = { ...init.headers, 'accept-encoding': 'identity' };
  if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
  return new Promise((resolve, reject) => {
    // As fetch does: a timed-out call fails with the deadline's own reason.
    const fail = (error: unknown) => reject(deadline.aborted ? deadline.reason : error);
    const request = transport.request(target, { method: init.method ?? 'GET', headers, signal: deadline }, (response) => {
      const encoding = response.headers['content-encoding'];
      if (Number(response.headers['content-length']) > MAX_RESPONSE_BYTES || (encoding !== undefined && encoding !== 'identity')) {
        request.destroy();
        fail(new Error('the identity provider answered with an oversized or encoded body'));
        return;
      }
      const chunks: Buffer[] = [];
      let seen = 0;
      response.on('data', (chunk: Buffer) => {
        seen += chunk.byteLength;
        if (seen > MAX_RESPONSE_BYTES) {
          request.destroy();
          fail(new Error('the identity provider answered with an oversized body'));
        } else chunks.push(chunk);
      });
      response.on('end', () =>
        resolve({
          status: response.statusCode!,
          statusText: response.statusMessage ?? '',
          rawHeaders: response.rawHeaders,
          body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks),
        }),
      );
      response.on('error', fail);
      response.on('close', () => {
        if (!response.complete) fail(new Error('the identity provider closed the connection mid-answer'));
      });
    });
    request.on('error', fail);
    request.end(body);
  });
}

/** The answer as the standard `Response` that openid-client reads. */
export function asResponse(answer: IdpAnswer): Response {
  const headers = new Headers();
  for (let i = 0; i < answer.rawHeaders.length; i += 2) headers.append(answer.rawHeaders[i]!, answer.rawHeaders[i + 1]!);
  // Socket reads are backed by plain ArrayBuffers, never shared ones.
  const body = NULL_BODY.has(answer.status) ? null : (answer.body as Uint8Array<ArrayBuffer>);
  return new Response(body, { status: answer.status, statusText: answer.statusText, headers });
}

/** The answer's body as JSON; throws when it is not JSON. */
export function jsonOf(answer: IdpAnswer): unknown {
  // TextDecoder drops a byte-order mark, as Response.json() does.
  return JSON.parse(new TextDecoder().decode(answer.body));
}
