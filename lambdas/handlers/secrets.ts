import { DynamoSecretRepository } from '../adapters/dynamodb/secret-repository';
import { DynamoTenantRepository } from '../adapters/dynamodb/tenant-repository';
import { KmsTenantKeyService } from '../adapters/kms/tenant-key-service';
import { createRequestClients } from '../adapters/aws-clients';
import { DynamoAuditLog } from '../adapters/dynamodb/audit-log';
import { DynamoIdempotencyStore } from '../adapters/dynamodb/idempotency-store';
import { loadConfig } from '../config';
import { DataKeyRing } from '../core/data-keys';
import { Secrets } from '../core/secrets';
import { SecretAccessGate } from '../core/policy';
import { AccessRulesCache } from '../core/access/rules-cache';
import { DynamoAccessRules } from '../adapters/dynamodb/access-rules';
import { api } from '../http/api';
import { systemClock } from '../ports/clock';
import { secretsRoutes, type SecretsFor } from './secrets-routes';

// Composition root of the secrets function: built once per container, at cold start.
const config = loadConfig();
// Each tenant's request signs with that tenant's session (token vending).
const aws = createRequestClients(config);
export const auditLog = new DynamoAuditLog(aws.dynamo, config.table);
const tenants = new DynamoTenantRepository(aws.dynamo, config.table);
const keyService = new KmsTenantKeyService(aws.kms, config.primaryRegion, config.region);
export const dataKeyRing = new DataKeyRing(tenants, keyService, systemClock, config.dataKeyTtlMs);

const rules = new DynamoAccessRules(aws.dynamo, config.table);
export const accessRules = new AccessRulesCache((tenantId) => rules.accessRules(tenantId), config.accessRulesTtlMs, systemClock);

const secretsFor: SecretsFor = (tenantId, request) =>
  new Secrets(tenantId, {
    repository: new DynamoSecretRepository(aws.dynamo, config.table, tenantId, auditLog),
    dataKeys: dataKeyRing.forTenant(tenantId),
    clock: systemClock,
    audit: request.audit,
    // The rules the access gate read for this request (through the cache): one read, shared.
    access: new SecretAccessGate(request.accessRules, request.sourceIp),
    signal: request.signal,
  });

export const handler = api(secretsRoutes(secretsFor), {
  auditLog,
  region: config.region,
  accessRules: (tenantId) => accessRules.get(tenantId),
  idempotency: new DynamoIdempotencyStore(aws.dynamo, config.table),
});
