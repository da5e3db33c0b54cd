/** The most an IdP answer may weigh: discovery documents, JWKS and token responses are a few kB. */
const MAX_RESPONSE_BYTES = 512 * 1024;

/** Statuses whose Response cannot carry a body. */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

type IdpFetch = (url: string, init?: RequestInit) => Promise<Response>;

/**
 * The fetch every call to an IdP goes through. Every call made with it ends
 * by `deadline`, which one sign-in step shares across all its calls, so a
 * slow IdP cannot add several timeouts up; and an answer larger than any
 * honest one fails. A hostile or broken IdP can neither stall nor flood us.
 * Redirects are not followed: nothing in discovery or the back channel
 * redirects, and following one would let an IdP point us anywhere.
 */
export function idpFetch(deadline: AbortSignal): IdpFetch {
  return async (url, init = {}) => {
    const signal = init.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    const response = await fetch(url, { ...init, signal, redirect: 'manual' });
    return limitBody(response);
  };
}

function limitBody(response: Response): Response {
  if (!response.body || NULL_BODY.has(response.status)) return response;
  if (Number(response.headers.get('content-length')) > MAX_RESPONSE_BYTES) {
    void response.body.cancel();
    throw new Error('the identity provider answered with an oversized body');
  }
  let seen = 0;
  const body = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > MAX_RESPONSE_BYTES) controller.error(new Error('the identity provider answered with an oversized body'));
        else controller.enqueue(chunk);
      },
    }),
  );
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
