import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import {
  CofferError,
  DeadlineExceededError,
  DependencyUnavailableError,
  InternalError,
  InvalidRequestError,
  MethodNotAllowedError,
  NO_SUCH_ROUTE,
  NotFoundError,
  UnauthenticatedError,
} from '../core/errors';
import type { AccessRules } from '../core/access/policy';
import { printable } from '../core/audit';
import type { Principal } from '../core/principal';
import { correlationId, type CofferContext } from './correlation-id';
import { problemJson, problemResponse } from './problem-json';
import type { AuditLog } from '../ports/audit-log';
import { API_FUNCTION_TIMEOUT_SECONDS, routeSpec, type Access, type AccessOf, type BodyKind, type FunctionName, type Method, type MethodOf, type Resource } from '../route-manifest';
import { admit, type PrincipalFor } from './access-gate';
import { principalFromAuthorizerContext } from './principal-context';
import { RequestAudit } from './request-audit';
import { regionHeader } from './region-header';
import { bodyText, parseInput, safeDecode } from './parse-request';
import { beginIdempotent, WRITE_METHODS } from './idempotency';
import type { IdempotencyStore } from '../ports/idempotency';
import { actAsTenant } from '../ports/acting-tenant';

/**
 * Kept back from the function's deadline to record the request's event and answer: a route
 * still running then is cut off with a 503 that says its change may have been applied.
 */
export const DEADLINE_RESERVE_MS = 1_500;
/** Of the reserve, what a cut-off request's event may take (the rest answers). */
const DEADLINE_EVENT_MS = 1_000;

export interface RequestInfo {
  readonly correlationId: string;
  /** The caller's address as API Gateway saw it (network safelists). */
  readonly sourceIp: string;
  /** This request's audit event (who, from where, on what), for routes that add to it or commit it with a change. */
  readonly audit: RequestAudit;
  /**
   * The caller's tenant's policies and network safelist, read at most once per request: the
   * access gate checks the safelist with it and the route's policy checks reuse it.
   */
  readonly accessRules: () => Promise<AccessRules>;
  /** Aborted when the request runs out of time: retries stop, and no new write starts. */
  readonly signal: AbortSignal;
}

export interface HttpResult {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/**
 * A handler route. Its access mode and body kind come from the route manifest (one source):
 * `resource` and `method` must name a manifest route, and `principal` is typed by its mode.
 */
export interface Route<S extends z.ZodType, R extends Resource> {
  readonly method: MethodOf<R>;
  /** The API Gateway resource template, e.g. `/v1/secrets/{path+}`. */
  readonly resource: R;
  /**
   * The action recorded in the audit trail (`secret.read`, …). `false` only for public
   * routes that carry no identity and touch no data (health, JWKS).
   */
  readonly audit: RouteAudit | false;
  readonly input: S;
  readonly handle: (args: { input: z.output<S>; principal: PrincipalFor<AccessOf<R>>; request: RequestInfo }) => Promise<HttpResult>;
}

export interface RouteAudit {
  readonly action: string;
  /**
   * What the route writes before its event (login bookkeeping), said in the 503 when the
   * event cannot be recorded instead of "nothing was changed". Absent: nothing is.
   */
  readonly ifUnrecorded?: string;
}

/** Any route, as api() dispatches it. */
export interface AnyRoute {
  readonly method: Method;
  readonly resource: Resource;
  readonly audit: RouteAudit | false;
  readonly input: z.ZodType;
  // biome-ignore lint: the route list is heterogeneous by design
  handle(args: { input: any; principal: any; request: RequestInfo }): Promise<HttpResult>;
}

export const route = <S extends z.ZodType, R extends Resource>(r: Route<S, R>): Route<S, R> => r;

/** A route with what the manifest says about it. */
interface Served {
  readonly route: AnyRoute;
  readonly fn: FunctionName;
  readonly access: Access;
  readonly body: BodyKind;
}

export interface ApiOptions {
  /** Where every audited request's event goes before its response is sent (fail closed). */
  readonly auditLog: AuditLog;
  /** The region serving the request, as recorded in audit events. */
  readonly region: string;
  /**
   * Loads a tenant's access rules; required when any route admits tenant principals (the
   * gate checks their network safelist). A cache may stand behind it (AccessRulesCache).
   */
  readonly accessRules?: (tenantId: string) => Promise<AccessRules>;
  /** Where Idempotency-Key records live; required when any route writes for a principal. */
  readonly idempotency?: IdempotencyStore;
}

/**
 * A thin middy handler that dispatches on method + resource, parses with zod, answers JSON,
 * and records one audit event per request — success or failure — before answering. If the
 * event cannot be recorded the caller gets a 503 instead of the result (fail closed).
 */
export function api(routes: readonly AnyRoute[], options: ApiOptions) {
  const byResource = new Map<string, Map<string, Served>>();
  for (const r of routes) {
    const spec = routeSpec(r.resource);
    const body = spec?.methods[r.method];
    if (!spec || !body) throw new Error(`api(): ${r.method} ${r.resource} is not in the route manifest`);
    if ((spec.access === 'tenant' || spec.access === 'tenant-or-platform') && !options.accessRules) {
      throw new Error(`api(): ${r.method} ${r.resource} admits tenant principals; pass accessRules so the gate can check their network`);
    }
    if (WRITE_METHODS.has(r.method) && spec.access !== 'public' && !options.idempotency) {
      throw new Error(`api(): ${r.method} ${r.resource} writes; pass an idempotency store so it can take an Idempotency-Key`);
    }
    const methods = byResource.get(r.resource) ?? new Map<string, Served>();
    if (methods.has(r.method)) throw new Error(`api(): ${r.method} ${r.resource} has two handler routes`);
    methods.set(r.method, { route: r, fn: spec.fn, access: spec.access, body });
    byResource.set(r.resource, methods);
  }

  // middy's own cut-off, 5 ms before the end, is the last resort behind withinDeadline().
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, CofferContext>({
    timeoutEarlyResponse: () => problemResponse(new DeadlineExceededError(), 'unknown'),
  })
    .use(regionHeader(options.region))
    .use(problemJson())
    .use(httpHeaderNormalizer())
    .use(correlationId())
    .handler(async (event, context) => {
      const matched = byResource.get(event.resource)?.get(event.httpMethod);
      // A request no route serves came through the gateway's authorized catch-all (ANY,
      // `{proxy+}`): it is recorded as `request.unrouted`, with the caller who sent it.
      const principal = !matched || matched.access !== 'public' ? principalFromAuthorizerContext(event.requestContext?.authorizer) : undefined;
      // Everything this request does, its audit event included, acts for the verified
      // token's tenant: the AWS clients sign with that tenant's session (token vending).
      if (principal?.kind === 'tenant') return actAsTenant(principal.tenantId, () => answer(matched, event, context, principal));
      return answer(matched, event, context, principal);
    });

  /** One request, audited: the route's answer, or its problem, once the event is recorded. */
  async function answer(matched: Served | undefined, event: APIGatewayProxyEvent, context: CofferContext, principal: Principal | undefined): Promise<APIGatewayProxyResult> {
    const timeUp = new AbortController();
    if (matched?.route.audit === false) return respond(await serve(matched, event, context, principal, undefined, timeUp.signal));

    const audit = new RequestAudit(
      {
        action: matched?.route.audit ? matched.route.audit.action : 'request.unrouted',
        correlationId: context.correlationId,
        sourceIp: event.requestContext?.identity?.sourceIp ?? 'unknown',
        userAgent: event.headers?.['user-agent'] ?? 'unknown',
        region: options.region,
        time: new Date().toISOString(),
      },
      principal,
      timeUp.signal,
    );
    const resource = matched
      ? (event.pathParameters?.path ?? event.pathParameters?.tenantId ?? event.pathParameters?.name ?? event.pathParameters?.clientId)
      : event.path;
    if (resource !== undefined) audit.about(safeDecode(resource));
    if (!matched) audit.note({ method: printable(event.httpMethod ?? ''), route: printable(event.resource ?? '') });

    let response: APIGatewayProxyResult;
    let errorCode: string | undefined;
    try {
      response = respond(await withinDeadline(serve(matched, event, context, principal, audit, timeUp.signal), context, timeUp));
    } catch (error) {
      response = problemResponse(error, context.correlationId);
      errorCode = error instanceof CofferError ? error.code : 'unexpected';
    }
    // A cut-off request's 503 is recorded even when its change's own event committed: the
    // trail shows what the caller was told, within what is left of the reserve.
    const cutOff = errorCode === 'deadline-exceeded';
    if (!audit.recorded || cutOff) {
      try {
        await options.auditLog.append(audit.draft(response.statusCode, errorCode), cutOff ? { withinMs: DEADLINE_EVENT_MS } : {});
      } catch (error) {
        // Nothing reaches the caller that the trail does not show: no value, no token, not
        // even a 404. A request that already failed for want of a dependency or of time
        // keeps its own 503, which names the real cause and serves nothing either.
        if (errorCode === 'dependency-unavailable' || errorCode === 'deadline-exceeded') return response;
        const written = matched?.route.audit ? matched.route.audit.ifUnrecorded : undefined;
        if (written !== undefined) throw new DependencyUnavailableError('audit', { cause: error, detail: written });
        throw error instanceof DependencyUnavailableError ? error : new DependencyUnavailableError('audit', { cause: error });
      }
    }
    return response;
  }

  async function serve(
    matched: Served | undefined,
    event: APIGatewayProxyEvent,
    context: CofferContext,
    principal: Principal | undefined,
    audit: RequestAudit | undefined,
    signal: AbortSignal,
  ) {
    if (!matched) {
      // The manifest, not this function's own routes: the unrouted function answers for all.
      const spec = routeSpec(event.resource);
      if (!spec) throw new NotFoundError(NO_SUCH_ROUTE);
      const allowed = Object.keys(spec.methods);
      throw new MethodNotAllowedError(`${event.httpMethod} is not allowed on ${event.resource}; use ${allowed.join(', ')}.`, allowed);
    }
    if (matched.access !== 'public' && !principal) throw new UnauthenticatedError();

    const sourceIp = event.requestContext?.identity?.sourceIp ?? 'unknown';
    let rules: Promise<AccessRules> | undefined;
    const accessRules = () => {
      if (principal?.kind !== 'tenant' || !options.accessRules) return Promise.reject(new InternalError('access rules are read for tenant principals only'));
      rules ??= options.accessRules(principal.tenantId);
      return rules;
    };
    // Before the input is parsed: a caller the route does not admit learns nothing of it.
    if (principal) await admit(matched.access, matched.fn, principal, sourceIp, accessRules);

    const input = parseInput(matched.route.input, matched.body, event);
    const request: RequestInfo = {
      correlationId: context.correlationId,
      sourceIp,
      // Unaudited routes get a recorder that is never written anywhere.
      audit: audit ?? new RequestAudit({ action: 'unaudited', correlationId: context.correlationId, sourceIp: '', userAgent: '', region: options.region, time: '' }),
      accessRules,
      signal,
    };
    const key = event.headers?.['idempotency-key'];
    if (key === undefined || !WRITE_METHODS.has(matched.route.method) || !audit) return matched.route.handle({ input, principal, request });
    // API Gateway keeps the last of repeated headers: two keys would silently become one.
    const sent = Object.entries(event.multiValueHeaders ?? {}).find(([name]) => name.toLowerCase() === 'idempotency-key')?.[1] ?? [];
    if (sent.length > 1) {
      throw new InvalidRequestError('Send Idempotency-Key once.', [{ field: 'headers.idempotency-key', message: 'sent more than once' }]);
    }

    const begun = await beginIdempotent({
      store: options.idempotency!,
      principal,
      key,
      shape: { method: event.httpMethod, path: event.path, query: { ...event.queryStringParameters } as Record<string, string>, ifMatch: event.headers?.['if-match'], body: bodyText(event) },
      audit,
      correlationId: context.correlationId,
      remainingMs: context.getRemainingTimeInMillis?.() ?? API_FUNCTION_TIMEOUT_SECONDS * 1000,
    });
    if ('replay' in begun) return begun.replay;
    try {
      const result = await matched.route.handle({ input, principal, request });
      await begun.held.answered(result, audit.recorded !== undefined);
      return result;
    } catch (error) {
      await begun.held.failed();
      throw error;
    }
  }
}

/**
 * The route's result, unless the function's deadline (less the reserve) comes first: then
 * the request is cut off with DeadlineExceededError — recorded and answered as such — and
 * its signal tells the route to stop. A write already sent to DynamoDB may still land.
 */
async function withinDeadline(work: Promise<HttpResult>, context: { getRemainingTimeInMillis?: () => number }, timeUp: AbortController): Promise<HttpResult> {
  const remaining = context.getRemainingTimeInMillis?.();
  if (remaining === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timeUp.abort();
      reject(new DeadlineExceededError());
    }, Math.max(0, remaining - DEADLINE_RESERVE_MS));
  });
  work.catch(() => undefined); // a route cut off may fail later; its answer was already given
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function respond(result: HttpResult): APIGatewayProxyResult {
  return {
    statusCode: result.status,
    headers: {
      ...(result.body === undefined ? {} : { 'Content-Type': 'application/json' }),
      'Cache-Control': 'no-store',
      ...result.headers,
    },
    body: result.body === undefined ? '' : typeof result.body === 'string' ? result.body : JSON.stringify(result.body),
  };
}

/** Shared zod pieces for query strings. */
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().min(1).max(4096).optional(),
};
