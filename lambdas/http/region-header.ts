import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/** Names the region that answered, on every response (the gateway's own answers too). */
export const REGION_HEADER = 'X-Coffer-Region';

/**
 * Adds REGION_HEADER to whatever the function answers. Use it first: middy runs `after` and
 * `onError` in reverse order, so it then sees the response problemJson() built for an error.
 */
export function regionHeader(region: string): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const add = (request: { response?: APIGatewayProxyResult | null }) => {
    if (request.response) request.response.headers = { ...request.response.headers, [REGION_HEADER]: region };
  };
  return { after: add, onError: add };
}
