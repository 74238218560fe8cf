import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  IdentitySource,
  JsonSchemaType,
  JsonSchemaVersion,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  type Model,
  RequestValidator,
  type IResource,
  type Method,
  RestApi,
  RequestAuthorizer,
} from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type BodyKind, type FunctionName, gatewayResources, type Method as HttpMethod } from '../../lambdas/route-manifest';
import { addProblemResponses } from './problem-responses';
import type { VaultFunctions } from './vault-functions';

export interface VaultApiProps {
  readonly stage: string;
  readonly functions: VaultFunctions;
  /** Steady-state requests per second per region before API Gateway answers 429. */
  readonly throttlingRateLimit?: number;
  readonly throttlingBurstLimit?: number;
}

/** Authorizer results are cached per token for this long (and reused for every route). */
export const AUTHORIZER_CACHE_TTL = Duration.minutes(5);

/**
 * The regional REST API, built from the route manifest the local emulation also uses.
 * Authorized routes pass the token authorizer; the tenant id reaches the handlers only
 * through the authorizer's context.
 */
export class VaultApi extends Construct {
  readonly api: RestApi;
  readonly accessLogs: LogGroup;

  private readonly authorizer: RequestAuthorizer;
  private readonly validator: RequestValidator;
  private readonly jsonObject: Model;

  constructor(scope: Construct, id: string, props: VaultApiProps) {
    super(scope, id);
    const { functions } = props;

    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.api = new RestApi(this, 'Api', {
      restApiName: `coffer-${props.stage}`,
      description: 'Coffer secrets vault API',
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: props.stage,
        tracingEnabled: true,
        metricsEnabled: true,
        // Execution logs at ERROR only; data tracing would write secret values to CloudWatch.
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        accessLogDestination: new LogGroupLogDestination(this.accessLogs),
        accessLogFormat: accessLogFormat(),
        throttlingRateLimit: props.throttlingRateLimit ?? 200,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 400,
        methodOptions: {
          // Credential exchange is the brute-force target; keep it well below the API default.
          '/v1/token/POST': { throttlingRateLimit: 20, throttlingBurstLimit: 40 },
        },
      },
    });
    // The stack exports the URL once, as ApiUrl; drop RestApi's own duplicate output.
    this.api.node.tryRemoveChild('Endpoint');
    addProblemResponses(this.api);

    // REQUEST rather than TOKEN: a refused token is audited with the caller's source IP and
    // user agent, which a TOKEN authorizer never sees. Cached per Authorization header.
    this.authorizer = new RequestAuthorizer(this, 'RequestAuthorizer', {
      handler: functions.authorizer.function,
      identitySources: [IdentitySource.header('Authorization')],
      resultsCacheTtl: AUTHORIZER_CACHE_TTL,
    });

    // Cheap structural checks at the edge (Authorization header and path present, write bodies
    // are JSON objects); the handlers validate the content itself with zod.
    this.validator = new RequestValidator(this, 'Validator', {
      restApi: this.api,
      requestValidatorName: 'parameters-and-body',
      validateRequestParameters: true,
      validateRequestBody: true,
    });
    this.jsonObject = this.api.addModel('JsonObject', {
      contentType: 'application/json',
      modelName: 'JsonObject',
      schema: { schema: JsonSchemaVersion.DRAFT4, title: 'JsonObject', type: JsonSchemaType.OBJECT },
    });

    const handlers: Record<FunctionName, IFunction> = {
      token: functions.token.function,
      health: functions.health.function,
      tenants: functions.tenants.function,
      secrets: functions.secrets.function,
      audit: functions.audit.function,
      identity: functions.identity.function,
    };
    // Every request reaches Coffer code: explicit methods where the manifest lists them,
    // and an authorized ANY on every resource (and the `{proxy+}` ones of the tree) for the
    // rest, so an unknown route or method is answered — and audited — by a handler.
    for (const node of gatewayResources()) {
      const resource = node.path === '/' ? this.api.root : this.api.root.resourceForPath(node.path);
      const route = node.route;
      for (const [method, body] of Object.entries(route?.methods ?? {}) as [HttpMethod, BodyKind][]) {
        if (route!.access === 'public') {
          this.publicMethod(resource, method, handlers[route!.fn]);
        } else {
          this.protectedMethod(resource, method, handlers[route!.fn], pathParameters(node.path), body);
        }
      }
      resource.addMethod('ANY', catchAll(handlers[node.fallbackFn]), { authorizationType: AuthorizationType.CUSTOM, authorizer: this.authorizer });
    }

    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'Coffer issues its own ES256 access tokens (KMS-signed) for users, API clients, AWS IAM and OIDC identities; the Lambda REQUEST authorizer verifies them. A Cognito user pool cannot model these credentials.',
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        'The account-level API Gateway CloudWatch role uses the AWS-managed policy made for exactly this purpose; it is needed for execution logging.',
    });
  }

  private publicMethod(resource: IResource, httpMethod: string, handler: IFunction): Method {
    const method = resource.addMethod(httpMethod, integration(handler), {
      authorizationType: AuthorizationType.NONE,
    });
    Validations.of(method).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Public by design: token exchange authenticates the credential in its body, JWKS publishes public keys, and /health is probed by Route 53 health checkers that cannot hold tokens.',
    });
    return method;
  }

  private protectedMethod(
    resource: IResource,
    httpMethod: string,
    handler: IFunction,
    pathParameterNames: readonly string[],
    body: BodyKind,
  ): Method {
    const requestParameters: Record<string, boolean> = { 'method.request.header.Authorization': true };
    for (const name of pathParameterNames) requestParameters[`method.request.path.${name}`] = true;
    // Only a required JSON object is checked at the edge: an optional body may be empty.
    const jsonBody = body === 'json';

    return resource.addMethod(httpMethod, integration(handler), {
      authorizationType: AuthorizationType.CUSTOM,
      authorizer: this.authorizer,
      requestParameters,
      requestValidator: this.validator,
      requestModels: jsonBody ? { 'application/json': this.jsonObject } : undefined,
    });
  }
}

/** `/v1/secrets/{path+}` → `['path']` */
function pathParameters(resourcePath: string): string[] {
  return [...resourcePath.matchAll(/\{([A-Za-z0-9_]+)\+?\}/g)].map((match) => match[1] as string);
}

function integration(handler: IFunction): LambdaIntegration {
  // One invoke permission per method, without the extra test-invoke permissions.
  return new LambdaIntegration(handler, { proxy: true, allowTestInvoke: false });
}

/**
 * The ANY methods: one invoke permission per function for the whole API rather than one per
 * method (some 60 more), which keeps the stack far from CloudFormation's resource limit.
 */
function catchAll(handler: IFunction): LambdaIntegration {
  return new LambdaIntegration(handler, { proxy: true, scopePermissionToMethod: false });
}

function accessLogFormat(): AccessLogFormat {
  return AccessLogFormat.custom(
    JSON.stringify({
      requestId: '$context.requestId',
      extendedRequestId: '$context.extendedRequestId',
      requestTime: '$context.requestTime',
      ip: '$context.identity.sourceIp',
      userAgent: '$context.identity.userAgent',
      method: '$context.httpMethod',
      resourcePath: '$context.resourcePath',
      status: '$context.status',
      responseLength: '$context.responseLength',
      latencyMs: '$context.responseLatency',
      integrationLatencyMs: '$context.integrationLatency',
      tenantId: '$context.authorizer.tenantId',
      principalId: '$context.authorizer.principalId',
      authorizerError: '$context.authorizer.error',
      errorType: '$context.error.responseType',
      xrayTraceId: '$context.xrayTraceId',
    }),
  );
}
