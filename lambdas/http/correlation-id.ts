import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';

// A caller may pass its own X-Correlation-Id (to follow a request across its systems);
// anything that is not a plain token is replaced, so logs and audit stay clean.
const CLIENT_ID_FORMAT = /^[A-Za-z0-9._-]{8,128}$/;

export interface CofferContext extends Context {
  correlationId: string;
}

export function correlationId(): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, CofferContext> {
  return {
    before: (request) => {
      const offered = request.event.headers?.['x-correlation-id'];
      request.context.correlationId =
        offered && CLIENT_ID_FORMAT.test(offered) ? offered : (request.event.requestContext?.requestId ?? randomUUID());
    },
    after: (request) => {
      if (request.response) {
        request.response.headers = { ...request.response.headers, 'X-Correlation-Id': request.context.correlationId };
      }
    },
  };
}
