import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, catalogue, type ErrorCode } from '../errors/catalogue.ts';

/** Fastify's own failures while reading a request, as our codes. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_body',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_VALIDATION: 'invalid_body',
  FST_ERR_BAD_URL: 'invalid_body',
};

/** Answers an error as `{error, message, ...details}`; the one place where a code becomes an HTTP status. */
export function sendError(reply: FastifyReply, code: ErrorCode, details?: Readonly<Record<string, unknown>>, message?: string) {
  const entry = catalogue[code];
  if (code === 'rate_limited' && typeof details?.retryAfter === 'number') reply.header('retry-after', String(details.retryAfter));
  return reply.code(entry.status).type('application/json').send({ ...details, error: code, message: message ?? entry.message });
}

/** The Fastify error handler: domain errors map through the catalogue; anything unexpected is a 500 with no detail. */
export function errorHandler(error: FastifyError | AppError, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof AppError) return sendError(reply, error.code, error.details, error.message);
  if (error.validation) {
    const first = error.validation[0];
    const field =
      (first?.params as { missingProperty?: string; additionalProperty?: string } | undefined)?.missingProperty ??
      (first?.params as { additionalProperty?: string } | undefined)?.additionalProperty ??
      first?.instancePath.replace(/^\//, '').replaceAll('/', '.');
    return sendError(reply, 'invalid_body', { field: field || undefined, problem: `${error.validationContext ?? 'body'} ${first?.message ?? 'is invalid'}` });
  }
  const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (mapped) return sendError(reply, mapped);
  if (error.statusCode === 429) return sendError(reply, 'rate_limited');
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) return sendError(reply, 'invalid_body');
  request.log.error({ err: error }, 'unexpected error');
  return sendError(reply, 'internal_error');
}
