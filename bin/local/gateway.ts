import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { asFunction } from '../../lambdas/adapters/call-counter';
import { RETRY_AFTER_SECONDS } from '../../lambdas/core/errors';
import type { AddressInfo } from 'node:net';
import { REGION_HEADER } from '../../lambdas/http/region-header';
import { API_FUNCTION_TIMEOUT_SECONDS, gatewayResources, PROXY_SEGMENT, type FunctionName, type GatewayResource } from '../../lambdas/route-manifest';

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
  /** Each function's deadline (the stack's timeout unless a test shortens it). */
  readonly functionTimeoutMs?: number;
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

/** One resource of the gateway's tree (lambdas/route-manifest.ts), as API Gateway holds it. */
interface Node {
  readonly resource: GatewayResource;
  readonly literals: Map<string, Node>;
  /** At most one path variable per resource, as in API Gateway: `{name}` or a greedy `{name+}`. */
  variable?: { readonly name: string; readonly greedy: boolean; readonly node: Node };
}

const root: Node = (() => {
  const nodes = new Map<string, Node>();
  for (const resource of gatewayResources()) nodes.set(resource.path, { resource, literals: new Map() });
  for (const [path, node] of nodes) {
    if (path === '/') continue;
    const parent = nodes.get(path.slice(0, path.lastIndexOf('/')) || '/')!;
    const segment = path.slice(path.lastIndexOf('/') + 1);
    const variable = /^\{(\w+)(\+?)\}$/.exec(segment);
    if (variable) parent.variable = { name: variable[1]!, greedy: variable[2] === '+', node };
    else parent.literals.set(segment, node);
  }
  return nodes.get('/')!;
})();

const ROOT_PROXY: GatewayResource = gatewayResources().find((r) => r.path === `/${PROXY_SEGMENT}`)!;

/**
 * The resource API Gateway picks for a path: at each level an explicit (literal) child wins
 * over the variable one; a greedy variable takes the rest of the path. Undefined only for
 * paths no resource can take (an empty segment where no greedy variable waits: `/v1/secrets/`),
 * which the gateway hands to the root proxy.
 */
export function matchResource(path: string): { resource: GatewayResource; params: Record<string, string> } | undefined {
  const segments = path === '/' ? [] : path.slice(1).split('/');
  const params: Record<string, string> = {};
  let node = root;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const literal = segment === '' ? undefined : node.literals.get(segment);
    if (literal) {
      node = literal;
      continue;
    }
    if (node.variable?.greedy) {
      // Everything left, empty segments included (`a//b` is the handler's to refuse).
      const rest = segments.slice(i).join('/');
      if (rest === '') return undefined;
      params[node.variable.name] = rest;
      return { resource: node.variable.node.resource, params };
    }
    if (!node.variable || segment === '') return undefined;
    params[node.variable.name] = segment;
    node = node.variable.node;
  }
  return { resource: node.resource, params };
}

/** The request target's path exactly as the client sent it (no dot-segment removal). */
export function rawPath(target: string | undefined): string {
  const path = (target ?? '/').split(/[?#]/, 1)[0]!;
  return path.startsWith('/') ? path : `/${path}`;
}

export function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const cache = new Map<string, { result: APIGatewayAuthorizerResult; expiresAt: number }>();
  const ttl = options.authorizerCacheTtlMs ?? 300_000;

  // API Gateway's own answers name the region too (the stack sets the same header on them).
  const answer = (res: ServerResponse, result: APIGatewayProxyResult) => send(res, { ...result, headers: { ...result.headers, [REGION_HEADER]: options.region } });

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error('local gateway error', error);
      if (!res.headersSent) answer(res, gatewayProblem(502, 'Bad gateway', 'The integration failed.', randomUUID()));
    });
  });
  // A request Node cannot parse (a bad or doubled Content-Length, a 60 KB URL) would get
  // Node's empty 400 or 431; answer it as every other refusal, with a problem body.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => answerUnparsable(error, socket, options.region));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const url = new URL(req.url ?? '/', 'http://gateway.local');
    // The path as sent: WHATWG URL parsing would resolve `.` and `..` segments, which API
    // Gateway passes through untouched (and the contract refuses with a 400).
    const path = rawPath(req.url);
    const body = await readBody(req);
    if (body === undefined) return answer(res, gatewayProblem(413, 'Payload too large', 'The request exceeds 10 MB.', requestId));
    // A path no resource can take (an empty segment, `/v1/users/`) still goes through the
    // authorizer to the unrouted function, so an authenticated request is always recorded.
    const matched = matchResource(path) ?? { resource: ROOT_PROXY, params: { proxy: path.slice(1) } };
    const method = (req.method ?? 'GET').toUpperCase();
    // An explicit method wins; any other goes to the resource's ANY (authorized, as deployed).
    const route = matched.resource.route;
    const explicit = route !== undefined && Object.hasOwn(route.methods, method);
    const fn: FunctionName = explicit ? route.fn : matched.resource.fallbackFn;
    const authorized = !explicit || route.access !== 'public';

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
      path: `/${STAGE}${path}`,
      protocol: 'HTTP/1.1',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: matched.resource.path,
      resourcePath: matched.resource.path,
      stage: STAGE,
      identity: { sourceIp, userAgent } as APIGatewayProxyEvent['requestContext']['identity'],
    };
    const request = {
      resource: matched.resource.path,
      path: path,
      httpMethod: method,
      headers,
      multiValueHeaders,
      queryStringParameters: query.length ? Object.fromEntries(url.searchParams) : null,
      multiValueQueryStringParameters: query.length ? Object.fromEntries(query.map((k) => [k, url.searchParams.getAll(k)])) : null,
      pathParameters: Object.keys(matched.params).length ? matched.params : null,
      stageVariables: null,
    };

    let authorizer: Record<string, unknown> | undefined;
    if (authorized) {
      // The identity source: without it API Gateway answers 401 and never calls the authorizer.
      const token = req.headers.authorization;
      if (!token) return answer(res, gatewayProblem(401, 'Unauthorized', 'Send a bearer token in the Authorization header.', requestId));
      const methodArn = `arn:aws:execute-api:${options.region}:${ACCOUNT}:${API_ID}/${STAGE}/${method}${path}`;
      let result = cache.get(token);
      if (!result || result.expiresAt <= Date.now()) {
        try {
          const fresh = await asFunction('authorizer', () => options.authorizer({ type: 'REQUEST', methodArn, ...request, requestContext } as APIGatewayRequestAuthorizerEvent));
          result = { result: fresh, expiresAt: Date.now() + ttl };
          if (ttl > 0) cache.set(token, result);
        } catch (error) {
          if ((error as Error).message === 'Unauthorized') {
            return answer(res, gatewayProblem(401, 'Unauthorized', 'The token is missing, invalid or expired.', requestId));
          }
          return answer(res, gatewayProblem(503, 'Service unavailable', 'The authorizer could not verify the token; retry.', requestId, { 'Retry-After': String(RETRY_AFTER_SECONDS) }));
        }
      }
      if (!allows(result.result, methodArn)) return answer(res, gatewayProblem(403, 'Forbidden', 'The token does not allow this request.', requestId));
      authorizer = { ...result.result.context, principalId: result.result.principalId };
    }

    const event: APIGatewayProxyEvent = {
      ...request,
      body: body.length ? body.toString('utf8') : null,
      isBase64Encoded: false,
      requestContext: { ...requestContext, authorizer },
    };
    const result = await asFunction(fn, () => options.functions[fn](event, lambdaContext(fn, requestId, options.functionTimeoutMs ?? API_FUNCTION_TIMEOUT_SECONDS * 1000)));
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

function gatewayProblem(status: number, title: string, detail: string, requestId: string, extraHeaders: Record<string, string> = {}): APIGatewayProxyResult {
  return {
    statusCode: status,
    headers: { 'Content-Type': 'application/problem+json', 'X-Correlation-Id': requestId, 'Cache-Control': 'no-store', ...extraHeaders },
    body: JSON.stringify({ type: 'about:blank', title, status, detail, correlationId: requestId }),
  };
}

/** Writes a problem straight to the socket of a request that never became one, then closes it. */
function answerUnparsable(error: NodeJS.ErrnoException, socket: Duplex, region: string): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const problem = tooLarge
    ? gatewayProblem(431, 'Request header fields too large', 'The request line and headers exceed 16 KB.', randomUUID())
    : gatewayProblem(400, 'Bad request', 'The request is not valid HTTP/1.1 (check Content-Length and the request line).', randomUUID());
  const body = Buffer.from(problem.body, 'utf8');
  const head = [
    `HTTP/1.1 ${problem.statusCode} ${STATUS_CODES[problem.statusCode]}`,
    ...Object.entries({ ...problem.headers, [REGION_HEADER]: region }).map(([name, value]) => `${name}: ${value}`),
    `Content-Length: ${body.length}`,
    'Connection: close',
  ];
  socket.end(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body]));
}

function send(res: ServerResponse, result: APIGatewayProxyResult): void {
  res.writeHead(result.statusCode, result.headers as Record<string, string>);
  res.end(result.body);
}

function lambdaContext(fn: string, requestId: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
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
