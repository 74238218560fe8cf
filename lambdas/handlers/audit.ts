import { createAwsClients } from '../adapters/aws-clients';
import { DynamoAuditLog } from '../adapters/dynamodb/audit-log';
import { loadConfig } from '../config';
import { AuditTrail } from '../core/audit-trail';
import { api } from '../http/api';
import { auditRoutes } from './audit-routes';

// Composition root of the audit function (query and export).
const config = loadConfig();
const aws = createAwsClients(config);
export const auditLog = new DynamoAuditLog(aws.dynamo, config.table);

export const handler = api(auditRoutes(new AuditTrail(auditLog)), { auditLog, region: config.region });
