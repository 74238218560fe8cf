import { requestDynamoClient } from '../adapters/aws-clients';
import { DynamoAuditLog } from '../adapters/dynamodb/audit-log';
import { DynamoIdempotencyStore } from '../adapters/dynamodb/idempotency-store';
import { DynamoAuditSinkStore } from '../adapters/dynamodb/audit-sink-store';
import { systemClock } from '../ports/clock';
import { loadConfig } from '../config';
import { AuditTrail } from '../core/audit-trail';
import { api } from '../http/api';
import { auditRoutes } from './audit-routes';
import { DynamoAccessRules } from '../adapters/dynamodb/access-rules';

// Composition root of the audit function (query and export).
const config = loadConfig();
// Each tenant's request signs with that tenant's session (token vending).
const dynamo = requestDynamoClient(config);
export const auditLog = new DynamoAuditLog(dynamo, config.table);

const trail = new AuditTrail({
  reader: auditLog,
  sinks: new DynamoAuditSinkStore(dynamo, config.table, auditLog),
  clock: systemClock,
  allowLoopbackSinks: config.allowLoopbackSinks,
});

const rules = new DynamoAccessRules(dynamo, config.table);

// The tenant's network safelist binds the trail and its sinks as it binds secrets (the gate).
export const handler = api(auditRoutes(trail), {
  auditLog,
  region: config.region,
  accessRules: (tenantId) => rules.accessRules(tenantId),
  idempotency: new DynamoIdempotencyStore(dynamo, config.table),
});
