import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { CofferError } from '../core/errors';
import type { Principal } from '../core/principal';
import { toAuthorizerContext } from '../http/principal-context';
import { logger } from '../http/logger';

export type VerifyAccessToken = (token: string) => Promise<Principal>;

/**
 * API Gateway TOKEN authorizer. Throwing the exact message 'Unauthorized' makes API Gateway
 * answer 401; any other error is an authorizer failure (mapped to 503). The allow policy
 * covers the whole stage because API Gateway caches it per token across routes; what a
 * principal may do is decided in the core, per request.
 */
export function createAuthorizer(verify: VerifyAccessToken) {
  return async (event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(event.authorizationToken ?? '');
    if (!match) throw new Error('Unauthorized');
    let principal: Principal;
    try {
      principal = await verify(match[1]!);
    } catch (error) {
      if (error instanceof CofferError && error.code === 'unauthenticated') throw new Error('Unauthorized');
      logger.error('authorizer could not verify a token', { error: error as Error });
      throw new Error('Authorizer unavailable');
    }
    return {
      // API Gateway also exposes this as context.principalId: it must equal the context's own.
      principalId: principal.id,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: stageWildcard(event.methodArn) }],
      },
      context: toAuthorizerContext(principal),
    };
  };
}

/** arn:aws:execute-api:region:account:apiId/stage/METHOD/path → arn:…:apiId/stage/* */
export function stageWildcard(methodArn: string): string {
  const [arnWithApiId, stage] = methodArn.split('/');
  return `${arnWithApiId}/${stage}/*`;
}
