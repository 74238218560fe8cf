import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROUTES, type FunctionName, type RouteSpec } from '../../lambdas/route-manifest';

// A small API Gateway (REST, proxy integration) in front of the real handler modules:
// HTTP request → proxy event → REQUEST authorizer (cached per token, as API Gateway does)
// → handler → HTTP response. Gateway-made errors are problem+json, as the stack's
// GatewayResponses make them in AWS.
export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
export type RequestAuthorizer = (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

export interface GatewayOptions {
  readonly functions: Record<FunctionName, ProxyHandler>;
  readonly authorizer: RequestAuthorizer;
  readonly region: string;
  readonly port: number;
  readonly host?: string;
  /** API Gateway's authorizer result cache TTL (the stack sets 300 s). */
  readonly authorizerCacheTtlMs?: number;
}

export interface RunningGateway {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024; // API Gateway's own limit
const ACCOUNT = '000000000000';
const API_ID = 'local';
const STAGE = 'local';

interface CompiledRoute extends RouteSpec {
  readonly pattern: RegExp;
  readonly literal: boolean;
}

const compiled: CompiledRoute[] = ROUTES.map((r: RouteSpec) => ({
  ...r,
  literal: !r.resource.includes('{'),
  pattern: new RegExp(
    `^${r.resource
      .split('/')
      .map((part) => {
        const greedy = /^\{(\w+)\+\}$/.exec(part);
        if (greedy) return `(?<${greedy[1]}>.+)`;
        const param = /^\{(\w+)\}$/.exec(part);
        if (param) return `(?<${param[1]}>[^/]+)`;
        return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/')}$`,
  ),
}));
// Literal resources win over templated ones, as in API Gateway.
compiled.sort((a, b) => Number(b.literal) - Number(a.literal));

export function matchRoute(path: string): { route: CompiledRoute; params: Record<string, string> } | undefined {
  for (const route of compiled) {
    const m = route.pattern.exec(path);
    if (m) return { route, params: { ...m.groups } };
  }
  return undefined;
}

export function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const cache = new Map<string, { result: APIGatewayAuthorizerResult; expiresAt: number }>();
  const ttl = options.authorizerCacheTtlMs ?? 300_000;

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error('local gateway error', error);
      if (!res.headersSent) send(res, gatewayProblem(502, 'Bad gateway', 'The integration failed.', randomUUID()));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const url = new URL(req.url ?? '/', 'http://gateway.local');
    const body = await readBody(req);
    if (body === undefined) return send(res, gatewayProblem(413, 'Payload too large', 'The request exceeds 10 MB.', requestId));
    const matched = matchRoute(url.pathname);
    if (!matched) return send(res, gatewayProblem(404, 'Not found', `No route for ${url.pathname}.`, requestId));
    const method = (req.method ?? 'GET').toUpperCase();
    const methods = Object.keys(matched.route.methods);
    if (!methods.includes(method)) {
      const refused = gatewayProblem(405, 'Method not allowed', `${method} is not allowed on ${matched.route.resource}.`, requestId);
      return send(res, { ...refused, headers: { ...refused.headers, Allow: methods.join(', ') } });
    }

    const headers: Record<string, string> = {};
    const multiValueHeaders: Record<string, string[]> = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!;
      const value = req.rawHeaders[i + 1]!;
      headers[name] = value;
      (multiValueHeaders[name] ??= []).push(value);
    }
    const sourceIp = req.socket.remoteAddress ?? '127.0.0.1';
    const userAgent = req.headers['user-agent'] ?? '';

    const query = [...url.searchParams.keys()];
    const requestContext: APIGatewayProxyEvent['requestContext'] = {
      accountId: ACCOUNT,
      apiId: API_ID,
      authorizer: undefined,
      httpMethod: method,
      path: `/${STAGE}${url.pathname}`,
      protocol: 'HTTP/1.1',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: matched.route.resource,
      resourcePath: matched.route.resource,
      stage: STAGE,
      identity: { sourceIp, userAgent } as APIGatewayProxyEvent['requestContext']['identity'],
    };
    const request = {
      resource: matched.route.resource,
      path: url.pathname,
      httpMethod: method,
      headers,
      multiValueHeaders,
      queryStringParameters: query.length ? Object.fromEntries(url.searchParams) : null,
      multiValueQueryStringParameters: query.length ? Object.fromEntries(query.map((k) => [k, url.searchParams.getAll(k)])) : null,
      pathParameters: Object.keys(matched.params).length ? matched.params : null,
      stageVariables: null,
    };

    let authorizer: Record<string, unknown> | undefined;
    if (matched.route.access !== 'public') {
      // The identity source: without it API Gateway answers 401 and never calls the authorizer.
      const token = req.headers.authorization;
      if (!token) return send(res, gatewayProblem(401, 'Unauthorized', 'Send a bearer token in the Authorization header.', requestId));
      const methodArn = `arn:aws:execute-api:${options.region}:${ACCOUNT}:${API_ID}/${STAGE}/${method}${url.pathname}`;
      let result = cache.get(token);
      if (!result || result.expiresAt <= Date.now()) {
        try {
          const fresh = await options.authorizer({ type: 'REQUEST', methodArn, ...request, requestContext } as APIGatewayRequestAuthorizerEvent);
          result = { result: fresh, expiresAt: Date.now() + ttl };
          if (ttl > 0) cache.set(token, result);
        } catch (error) {
          if ((error as Error).message === 'Unauthorized') {
            return send(res, gatewayProblem(401, 'Unauthorized', 'The token is missing, invalid or expired.', requestId));
          }
          return send(res, gatewayProblem(503, 'Service unavailable', 'The authorizer could not verify the token; retry.', requestId));
        }
      }
      if (!allows(result.result, methodArn)) return send(res, gatewayProblem(403, 'Forbidden', 'The token does not allow this request.', requestId));
      authorizer = { ...result.result.context, principalId: result.result.principalId };
    }

    const event: APIGatewayProxyEvent = {
      ...request,
      body: body.length ? body.toString('utf8') : null,
      isBase64Encoded: false,
      requestContext: { ...requestContext, authorizer },
    };
    const result = await options.functions[matched.route.fn](event, lambdaContext(matched.route.fn, requestId));
    res.writeHead(result.statusCode, { ...(result.headers as Record<string, string>) });
    res.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
  }

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://${options.host ?? '127.0.0.1'}:${port}`,
        server,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

function allows(result: APIGatewayAuthorizerResult, methodArn: string): boolean {
  const statements = result.policyDocument.Statement as { Effect: string; Resource?: string | string[]; Action?: string | string[] }[];
  const matches = (s: (typeof statements)[number]) =>
    [s.Resource ?? []].flat().some((r) => new RegExp(`^${r.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(methodArn));
  if (statements.some((s) => s.Effect === 'Deny' && matches(s))) return false;
  return statements.some((s) => s.Effect === 'Allow' && matches(s));
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_PAYLOAD_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function gatewayProblem(status: number, title: string, detail: string, requestId: string): APIGatewayProxyResult {
  return {
    statusCode: status,
    headers: { 'Content-Type': 'application/problem+json', 'X-Correlation-Id': requestId, 'Cache-Control': 'no-store' },
    body: JSON.stringify({ type: 'about:blank', title, status, detail, correlationId: requestId }),
  };
}

function send(res: ServerResponse, result: APIGatewayProxyResult): void {
  res.writeHead(result.statusCode, result.headers as Record<string, string>);
  res.end(result.body);
}

function lambdaContext(fn: string, requestId: string): Context {
  const deadline = Date.now() + 10_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `coffer-${fn}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:${ACCOUNT}:function:coffer-${fn}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/coffer-${fn}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
