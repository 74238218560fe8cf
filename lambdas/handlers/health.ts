import { createAwsClients } from '../adapters/aws-clients';
import { DynamoAuditLog } from '../adapters/dynamodb/audit-log';
import { RegionHealth } from '../adapters/region-health';
import { loadConfig } from '../config';
import { api } from '../http/api';
import { healthRoutes } from './health-routes';

const config = loadConfig();
const aws = createAwsClients(config);
export const auditLog = new DynamoAuditLog(aws.dynamo, config.table);
const kms = aws.kms.get(config.region)!;
const health = new RegionHealth(aws.dynamo, kms, config.table, config.signingKeyId, config.region);

export const handler = api(healthRoutes(health), { auditLog, region: config.region });
