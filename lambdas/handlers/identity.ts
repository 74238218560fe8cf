import { createRequestClients } from '../adapters/aws-clients';
import { DynamoAccessRules } from '../adapters/dynamodb/access-rules';
import { DynamoAuditLog } from '../adapters/dynamodb/audit-log';
import { DynamoIdempotencyStore } from '../adapters/dynamodb/idempotency-store';
import { DynamoIdentityRecords } from '../adapters/dynamodb/identity-records';
import { DynamoLoginBookkeeping } from '../adapters/dynamodb/login-bookkeeping';
import { DynamoSessionStore } from '../adapters/dynamodb/sessions';
import { DynamoTenantRepository } from '../adapters/dynamodb/tenant-repository';
import { KmsTenantKeyService } from '../adapters/kms/tenant-key-service';
import { loadConfig } from '../config';
import { DataKeyRing } from '../core/data-keys';
import { ClientAdmin } from '../core/identity/clients';
import { NamedRecordAdmin } from '../core/identity/named-records';
import { NetworkAdmin } from '../core/identity/network-admin';
import { TotpSeeds } from '../core/identity/totp';
import { UserAdmin } from '../core/identity/users';
import { SelfService } from '../core/identity/whoami';
import { api } from '../http/api';
import { systemClock } from '../ports/clock';
import { identityRoutes, type IdentityServices } from './identity-routes';

// Composition root of the identity function: users, clients, groups, policies, trusted
// issuers, IAM bindings, network safelist, whoami and logout.
const config = loadConfig();
// Each tenant's request signs with that tenant's session (token vending).
const aws = createRequestClients(config);
export const auditLog = new DynamoAuditLog(aws.dynamo, config.table);
const tenants = new DynamoTenantRepository(aws.dynamo, config.table);
const dataKeys = new DataKeyRing(tenants, new KmsTenantKeyService(aws.kms, config.primaryRegion, config.region), systemClock, config.dataKeyTtlMs);

const records = new DynamoIdentityRecords(aws.dynamo, config.table, auditLog);
const logins = new DynamoLoginBookkeeping(aws.dynamo, config.table);
const rules = new DynamoAccessRules(aws.dynamo, config.table);
const clock = systemClock;

export const identity: IdentityServices = {
  self: new SelfService({ sessions: new DynamoSessionStore(aws.dynamo, config.table) }),
  users: new UserAdmin({ records, logins, clock, totp: new TotpSeeds((tenantId) => dataKeys.forTenant(tenantId)) }),
  clients: new ClientAdmin({ records, logins, clock }),
  named: new NamedRecordAdmin({ records, clock }),
  network: new NetworkAdmin({ network: records, clock }),
};

export const handler = api(identityRoutes(identity, { allowLoopbackIssuers: config.allowLoopbackSinks }), {
  auditLog,
  region: config.region,
  // Fresh on every request (no cache): identity changes are checked against the latest rules.
  accessRules: (tenantId) => rules.accessRules(tenantId),
  idempotency: new DynamoIdempotencyStore(aws.dynamo, config.table),
});
