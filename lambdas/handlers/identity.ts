import { createAwsClients } from '../adapters/aws-clients';
import { DynamoAuditLog } from '../adapters/dynamodb/audit-log';
import { DynamoIdentityStore } from '../adapters/dynamodb/identity-store';
import { DynamoTenantRepository } from '../adapters/dynamodb/tenant-repository';
import { KmsTenantKeyService } from '../adapters/kms/tenant-key-service';
import { loadConfig } from '../config';
import { DataKeyRing } from '../core/data-keys';
import { IdentityAdmin } from '../core/identity/admin';
import { TotpSeeds } from '../core/identity/totp';
import { api } from '../http/api';
import { systemClock } from '../ports/clock';
import { identityRoutes } from './identity-routes';

// Composition root of the identity function: users, clients, groups, policies, trusted
// issuers, IAM bindings, network safelist, whoami and logout.
const config = loadConfig();
const aws = createAwsClients(config);
export const auditLog = new DynamoAuditLog(aws.dynamo, config.table);
const tenants = new DynamoTenantRepository(aws.dynamo, config.table);
const dataKeys = new DataKeyRing(tenants, new KmsTenantKeyService(aws.kms, config.primaryRegion, config.region), systemClock, config.dataKeyTtlMs);

const store = new DynamoIdentityStore(aws.dynamo, config.table, auditLog);
export const identityAdmin = new IdentityAdmin({
  store,
  clock: systemClock,
  totp: new TotpSeeds((tenantId) => dataKeys.forTenant(tenantId)),
});

export const handler = api(identityRoutes(identityAdmin, { allowLoopbackIssuers: config.allowLoopbackSinks }), {
  auditLog,
  region: config.region,
  // Fresh on every request (no cache): identity changes are checked against the latest rules.
  accessRules: (tenantId) => store.accessRules(tenantId),
});
