import { z } from 'zod';
import { route } from '../http/api';

export interface HealthCheck {
  check(): Promise<{ status: string }>;
}

export function healthRoutes(health: HealthCheck) {
  return [
    route({
      method: 'GET',
      resource: '/health',
      // Probed every few seconds by Route 53 from many locations; carries no identity or data.
      audit: false,
      input: z.object({}),
      handle: async () => {
        const report = await health.check();
        return { status: report.status === 'ok' ? 200 : 503, body: report };
      },
    }),
  ];
}
