import { dynamoClient, kmsClient } from '../adapters/aws-clients';
import { DynamoAuditLog } from '../adapters/dynamodb/audit-log';
import { RegionHealth } from '../adapters/region-health';
import { loadConfig } from '../config';
import { api } from '../http/api';
import { healthRoutes } from './health-routes';

const config = loadConfig();
const dynamo = dynamoClient(config);
export const auditLog = new DynamoAuditLog(dynamo, config.table);
const health = new RegionHealth(dynamo, kmsClient(config), config.table, config.signingKeyId, config.region);

export const handler = api(healthRoutes(health), { auditLog, region: config.region });
