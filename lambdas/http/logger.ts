import { Logger } from '@aws-lambda-powertools/logger';
import { ENV } from '../env';

// Structured logs. Never log a request or response body: it may carry a secret value.
export const logger = new Logger({ serviceName: process.env[ENV.serviceName] ?? 'coffer' });
