import { createAwsClients } from '../adapters/aws-clients';
import { RegionHealth } from '../adapters/region-health';
import { loadConfig } from '../config';
import { api, route } from '../http/api';
import { z } from 'zod';

const config = loadConfig();
const aws = createAwsClients(config);
const kms = aws.kms.get(config.region)!;
const health = new RegionHealth(aws.dynamo, kms, config.table, config.signingKeyId, config.region);

export const handler = api([
  route({
    method: 'GET',
    resource: '/health',
    authenticated: false,
    body: 'none',
    input: z.object({}),
    handle: async () => {
      const report = await health.check();
      return { status: report.status === 'ok' ? 200 : 503, body: report };
    },
  }),
]);
