import { createAwsClients } from '../adapters/aws-clients';
import { DynamoTenantRepository } from '../adapters/dynamodb/tenant-repository';
import { KmsTenantKeyService } from '../adapters/kms/tenant-key-service';
import { loadConfig } from '../config';
import { Tenants } from '../core/tenants';
import { api } from '../http/api';
import { systemClock } from '../ports/clock';
import { tenantsRoutes } from './tenants-routes';

const config = loadConfig();
const aws = createAwsClients(config);
const repository = new DynamoTenantRepository(aws.dynamo, config.table);
export const tenants = new Tenants({
  tenants: repository,
  clients: repository,
  keys: new KmsTenantKeyService(aws.kms, config.primaryRegion, config.region),
  clock: systemClock,
});

export const handler = api(tenantsRoutes(tenants));
