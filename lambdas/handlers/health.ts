import { dynamoClient, kmsClient } from '../adapters/aws-clients';
import { DynamoAuditLog } from '../adapters/dynamodb/audit-log';
import { RegionHealth } from '../adapters/region-health';
import { loadConfig } from '../config';
import { api, route } from '../http/api';
import { z } from 'zod';

const config = loadConfig();
const dynamo = dynamoClient(config);
export const auditLog = new DynamoAuditLog(dynamo, config.table);
const health = new RegionHealth(dynamo, kmsClient(config), config.table, config.signingKeyId, config.region);

export const handler = api([
  route({
    method: 'GET',
    resource: '/health',
    authenticated: false,
    // Probed every few seconds by Route 53 from many locations; carries no identity or data.
    audit: false,
    body: 'none',
    input: z.object({}),
    handle: async () => {
      const report = await health.check();
      return { status: report.status === 'ok' ? 200 : 503, body: report };
    },
  }),
], { auditLog, region: config.region });
