import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { CofferError } from '../core/errors';
import { logger } from './logger';
import { toProblem } from './problem';
import type { CofferContext } from './correlation-id';

// Registered first so its onError runs last (middy runs onError in reverse order) and
// catches what every other middleware throws. 5xx bodies never carry internals.
export function problemJson(): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, CofferContext> {
  return {
    onError: (request) => {
      const correlationId = request.context.correlationId ?? request.event.requestContext?.requestId ?? 'unknown';
      request.response = problemResponse(request.error, correlationId);
    },
  };
}

/** The problem+json response for an error, logged by severity (never with the request body). */
export function problemResponse(error: unknown, correlationId: string): APIGatewayProxyResult {
  const { body, headers } = toProblem(error, correlationId);
  const known = error instanceof CofferError;
  if (body.status >= 500) {
    logger.error('request failed', { correlationId, code: known ? error.code : 'unexpected', error: error as Error });
  } else {
    logger.info('request refused', { correlationId, status: body.status, code: known ? error.code : 'unexpected' });
  }
  return {
    statusCode: body.status,
    headers: { 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store', 'X-Correlation-Id': correlationId, ...headers },
    body: JSON.stringify(body),
  };
}
