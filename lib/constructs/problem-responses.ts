import { Stack } from 'aws-cdk-lib';
import { ResponseType, type RestApi } from 'aws-cdk-lib/aws-apigateway';
import { REGION_HEADER } from '../../lambdas/http/region-header';
import { NO_SUCH_ROUTE, RETRY_AFTER_SECONDS } from '../../lambdas/core/errors';

/**
 * API Gateway's own errors (before or instead of a Lambda) rendered as RFC 9457
 * `application/problem+json`, the same shape the handlers return, with the request id as
 * correlation id. Gateway-response templates allow only plain `$context` substitution.
 */
interface GatewayProblem {
  readonly type: ResponseType;
  /** Overrides API Gateway's status; omitted to keep the status it chose. */
  readonly status?: number;
  readonly title: string;
  /** A JSON value: a quoted literal or a `$context` variable that renders as one. */
  readonly detail: string;
  /** A retryable refusal: the Retry-After it sends, as the handlers' 503s do. */
  readonly retryAfterSeconds?: number;
}

/** `$context.error.messageString` renders API Gateway's message already JSON-quoted. */
const GATEWAY_MESSAGE = '$context.error.messageString';

export const GATEWAY_PROBLEMS: readonly GatewayProblem[] = [
  {
    type: ResponseType.UNAUTHORIZED,
    status: 401,
    title: 'Unauthorized',
    detail: JSON.stringify('A valid bearer access token is required.'),
  },
  {
    type: ResponseType.ACCESS_DENIED,
    status: 403,
    title: 'Forbidden',
    detail: JSON.stringify('The access token does not allow this request.'),
  },
  {
    // REST APIs answer unknown routes with "Missing Authentication Token" (403); Coffer uses
    // no IAM auth, so this only ever means "no such route".
    type: ResponseType.MISSING_AUTHENTICATION_TOKEN,
    status: 404,
    title: 'Not Found',
    detail: JSON.stringify(NO_SUCH_ROUTE),
  },
  { type: ResponseType.BAD_REQUEST_PARAMETERS, status: 400, title: 'Bad Request', detail: GATEWAY_MESSAGE },
  { type: ResponseType.BAD_REQUEST_BODY, status: 400, title: 'Bad Request', detail: GATEWAY_MESSAGE },
  { type: ResponseType.REQUEST_TOO_LARGE, status: 413, title: 'Content Too Large', detail: GATEWAY_MESSAGE },
  { type: ResponseType.UNSUPPORTED_MEDIA_TYPE, status: 415, title: 'Unsupported Media Type', detail: GATEWAY_MESSAGE },
  { type: ResponseType.THROTTLED, status: 429, title: 'Too Many Requests', detail: GATEWAY_MESSAGE },
  { type: ResponseType.QUOTA_EXCEEDED, status: 429, title: 'Too Many Requests', detail: GATEWAY_MESSAGE },
  { type: ResponseType.DEFAULT_4XX, title: 'Request rejected', detail: GATEWAY_MESSAGE },
  {
    type: ResponseType.INTEGRATION_TIMEOUT,
    status: 504,
    title: 'Gateway Timeout',
    detail: JSON.stringify('The vault did not answer in time.'),
  },
  {
    // The authorizer throws anything but 'Unauthorized' when it cannot verify (e.g. KMS is
    // unreachable): a retryable 503, as the local emulation answers.
    type: ResponseType.AUTHORIZER_FAILURE,
    status: 503,
    title: 'Service Unavailable',
    detail: JSON.stringify('Access tokens cannot be verified right now. Retry shortly.'),
    retryAfterSeconds: RETRY_AFTER_SECONDS,
  },
  // 5xx bodies never carry API Gateway's internal message.
  {
    type: ResponseType.DEFAULT_5XX,
    title: 'Internal Server Error',
    detail: JSON.stringify('The request could not be completed. Quote the correlation id to support.'),
  },
];

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function addProblemResponses(api: RestApi): void {
  for (const problem of GATEWAY_PROBLEMS) {
    const status = problem.status === undefined ? '' : `"status":${problem.status},`;
    api.addGatewayResponse(`Problem${pascal(problem.type.responseType)}`, {
      type: problem.type,
      statusCode: problem.status?.toString(),
      responseHeaders: {
        'Content-Type': `'${PROBLEM_CONTENT_TYPE}'`,
        'X-Correlation-Id': 'context.requestId',
        [REGION_HEADER]: `'${Stack.of(api).region}'`,
        ...(problem.retryAfterSeconds === undefined ? {} : { 'Retry-After': `'${problem.retryAfterSeconds}'` }),
      },
      templates: {
        'application/json':
          `{"type":"about:blank","title":${JSON.stringify(problem.title)},${status}` +
          `"detail":${problem.detail},"correlationId":"$context.requestId"}`,
      },
    });
  }
}

function pascal(snake: string): string {
  return snake
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}
