import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { actorOf, chainOf, outcomeOf, printable } from '../core/audit';
import { CofferError } from '../core/errors';
import type { Principal } from '../core/principal';
import { toAuthorizerContext } from '../http/principal-context';
import { logger } from '../http/logger';
import type { AuditLog } from '../ports/audit-log';
import { randomUUID } from 'node:crypto';

export type VerifyAccessToken = (token: string) => Promise<Principal>;

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

/**
 * API Gateway REQUEST authorizer (identity source: the Authorization header). Throwing the
 * exact message 'Unauthorized' makes API Gateway answer 401; any other error is an
 * authorizer failure (mapped to 503). The allow policy covers the whole stage because API
 * Gateway caches it per token across routes; what a principal may do is decided in the
 * core, per request. A refused token is an audited request like any other: its event goes
 * to the platform chain (no tenant is verified), and if it cannot be recorded the caller
 * gets a 503, not a 401.
 */
export function createAuthorizer(verify: VerifyAccessToken, audit: { log: AuditLog; region: string }) {
  return async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const match = BEARER.exec(authorizationHeader(event) ?? '');
    let principal: Principal;
    try {
      if (!match) throw new Error('malformed bearer token');
      principal = await verify(match[1]!);
    } catch (error) {
      const unauthenticated = !match || (error instanceof CofferError && error.code === 'unauthenticated');
      if (!unauthenticated) {
        logger.error('authorizer could not verify a token', { error: error as Error });
        throw new Error('Authorizer unavailable');
      }
      await recordRefusal(event, audit);
      throw new Error('Unauthorized');
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

async function recordRefusal(event: APIGatewayRequestAuthorizerEvent, audit: { log: AuditLog; region: string }): Promise<void> {
  const status = 401;
  try {
    await audit.log.append({
      id: randomUUID(),
      chain: chainOf(null),
      time: new Date().toISOString(),
      tenantId: null,
      actor: actorOf(undefined),
      action: 'auth.verify',
      // The raw path, capped: the route template alone would hide what was probed.
      resource: printable(event.path ?? '') || null,
      outcome: outcomeOf(status),
      status,
      sourceIp: event.requestContext?.identity?.sourceIp ?? 'unknown',
      userAgent: printable(headerValue(event, 'user-agent') ?? 'unknown'),
      // The 401 API Gateway sends carries $context.requestId as its correlation id.
      correlationId: event.requestContext?.requestId ?? 'unknown',
      region: audit.region,
      details: { method: event.httpMethod ?? 'unknown', route: event.resource ?? 'unknown', error: 'unauthenticated' },
    });
  } catch (error) {
    logger.error('audit trail unavailable: refusing to answer 401 unrecorded', { error: error as Error });
    throw new Error('Authorizer unavailable');
  }
}

function authorizationHeader(event: APIGatewayRequestAuthorizerEvent): string | undefined {
  return headerValue(event, 'authorization');
}

function headerValue(event: APIGatewayRequestAuthorizerEvent, name: string): string | undefined {
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === name && value !== undefined) return value;
  }
  return undefined;
}

/** arn:aws:execute-api:region:account:apiId/stage/METHOD/path → arn:…:apiId/stage/* */
export function stageWildcard(methodArn: string): string {
  const [arnWithApiId, stage] = methodArn.split('/');
  return `${arnWithApiId}/${stage}/*`;
}
