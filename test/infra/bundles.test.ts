import { build } from 'esbuild';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Which AWS SDK clients end up in each function's bundle, bundled as CofferFunction bundles
// (esbuild, ESM, minified). One wiring module builds every client (adapters/aws-clients.ts);
// this holds that importing it costs a function only the clients it builds.
const SDK_CLIENTS_BY_FUNCTION = {
  authorizer: ['client-dynamodb', 'client-kms'],
  token: ['client-dynamodb', 'client-kms'],
  secrets: ['client-dynamodb', 'client-kms', 'client-sts'],
  tenants: ['client-dynamodb', 'client-kms'],
  health: ['client-dynamodb', 'client-kms'],
  audit: ['client-dynamodb', 'client-sts'],
  identity: ['client-dynamodb', 'client-kms', 'client-sts'],
  'audit-shipper': ['client-dynamodb', 'client-kms', 'client-s3'],
} as const;

async function sdkClientsIn(handler: string): Promise<string[]> {
  const result = await build({
    entryPoints: [resolve(import.meta.dirname, `../../lambdas/handlers/${handler}.ts`)],
    outfile: `${handler}.mjs`,
    bundle: true,
    write: false,
    metafile: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    mainFields: ['module', 'main'],
    logLevel: 'error',
  });
  const inputs = Object.values(result.metafile.outputs).flatMap((output) =>
    Object.entries(output.inputs).filter(([, input]) => input.bytesInOutput > 0).map(([path]) => path),
  );
  const clients = inputs.map((path) => /node_modules\/@aws-sdk\/(client-[a-z0-9-]+)\//.exec(path)?.[1]).filter((c) => c !== undefined);
  return [...new Set(clients)].sort();
}

describe('the functions bundles', () => {
  for (const [handler, expected] of Object.entries(SDK_CLIENTS_BY_FUNCTION)) {
    it(`bundles ${handler} with exactly the SDK clients it builds: ${expected.join(', ')}`, async () => {
      expect(await sdkClientsIn(handler)).toEqual([...expected]);
    });
  }
});
