import { Logger } from '@aws-lambda-powertools/logger';

// Structured logs. Never log a request or response body: it may carry a secret value.
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'coffer' });
