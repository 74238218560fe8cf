import { inject } from 'vitest';
import { startLocalRuntime, type LocalRuntime } from '../../bin/local/runtime';

export interface Response<T = any> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

export interface Client {
  request<T = any>(method: string, path: string, options?: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<Response<T>>;
  token(clientId: string, clientSecret: string): Promise<string>;
  adminToken(): Promise<string>;
  /** Onboards a tenant and returns its Owner's token and credentials. */
  onboard(name?: string): Promise<{ tenantId: string; token: string; clientId: string; clientSecret: string }>;
}

/** The real local runtime (DynamoDB Local, moto, handlers behind the gateway emulation) on a free port. */
export async function startTestRuntime(options: { authorizerCacheTtlMs?: number; shipIntervalMs?: number; accessRulesTtlSeconds?: number; functionTimeoutMs?: number } = {}): Promise<LocalRuntime & { client: Client }> {
  // The audit shipper ships when a test calls `auditShipping.drain()`, not in the background:
  // a poll in the middle of a test would add KMS and DynamoDB calls its mocks would see.
  const runtime = await startLocalRuntime({ port: 0, awsEndpoint: inject('awsEndpoint'), dynamodbEndpoint: inject('dynamodbEndpoint'), logLevel: 'SILENT', shipIntervalMs: 3_600_000, accessRulesTtlSeconds: 0, ...options });
  return { ...runtime, client: clientFor(runtime) };
}

export function clientFor(runtime: LocalRuntime): Client {
  let adminToken: string | undefined;
  const client: Client = clientOver(
    async (method, path, options = {}) => {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      let body: string | undefined = options.rawBody;
      if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers['content-type'] ??= 'application/json';
      }
      const response = await fetch(`${runtime.endpoint}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // leave as text
      }
      return { status: response.status, headers: response.headers, body: parsed as any };
    },
    async () => (adminToken ??= await client.token(runtime.admin.clientId, runtime.admin.clientSecret)),
  );
  return client;
}

/**
 * The same client, but a 503 "dependency unavailable" (which promises that nothing was
 * changed, with Retry-After) is retried twice: on a loaded machine moto can be slow enough
 * for the audit chain to give up. For files that assert nothing about 503s; races use the
 * plain client.
 */
export function patient(inner: Client): Client {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  return clientOver(async (method, path, options) => {
    for (let attempt = 1; ; attempt++) {
      const response = await inner.request(method, path, options);
      if (response.status !== 503 || attempt === 3) return response;
      await sleep(300);
    }
  }, () => inner.adminToken());
}

/** Logins and onboarding over one way of sending requests. */
function clientOver(request: Client['request'], adminToken: () => Promise<string>): Client {
  const client: Client = {
    request,
    adminToken,
    async token(clientId, clientSecret) {
      const response = await request('POST', '/v1/token', { body: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret } });
      if (response.status !== 200) throw new Error(`token request failed: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body.access_token as string;
    },
    async onboard(name = 'tenant') {
      const response = await request('POST', '/v1/admin/tenants', { token: await adminToken(), body: { name } });
      if (response.status !== 201) throw new Error(`onboarding failed: ${response.status} ${JSON.stringify(response.body)}`);
      const { tenantId, owner } = response.body;
      return { tenantId, clientId: owner.clientId, clientSecret: owner.clientSecret, token: await client.token(owner.clientId, owner.clientSecret) };
    },
  };
  return client;
}
