import { createAwsClients } from '../adapters/aws-clients';
import { DynamoAuditLog } from '../adapters/dynamodb/audit-log';
import { DynamoIdempotencyStore } from '../adapters/dynamodb/idempotency-store';
import { DynamoTenantRepository } from '../adapters/dynamodb/tenant-repository';
import { KmsTenantKeyService } from '../adapters/kms/tenant-key-service';
import { loadConfig } from '../config';
import { Tenants } from '../core/tenants';
import { api } from '../http/api';
import { systemClock } from '../ports/clock';
import { tenantsRoutes } from './tenants-routes';

const config = loadConfig();
const aws = createAwsClients(config);
export const auditLog = new DynamoAuditLog(aws.dynamo, config.table);
const repository = new DynamoTenantRepository(aws.dynamo, config.table, auditLog);
export const tenants = new Tenants({
  tenants: repository,
  clients: repository,
  keys: new KmsTenantKeyService(aws.kms, config.primaryRegion, config.region),
  clock: systemClock,
});

export const handler = api(tenantsRoutes(tenants), { auditLog, region: config.region, idempotency: new DynamoIdempotencyStore(aws.dynamo, config.table) });
