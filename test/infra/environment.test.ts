import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambdas/config';
import { ENV } from '../../lambdas/env';
import { SKIP_BUNDLING, SYNTH_TIMEOUT_MS, type TempApp, tempApp } from './fixture';

// The deployed functions' environments against the names the functions read (lambdas/env.ts)
// and against config.ts itself: each function's environment, as Lambda would hand it over,
// must load.

interface LambdaFunction {
  readonly Description: string;
  readonly Environment: { readonly Variables: Record<string, unknown> };
}

let fixture: TempApp;
const regions: Record<string, { functions: LambdaFunction[] }> = {};

beforeAll(() => {
  fixture = tempApp({ context: SKIP_BUNDLING, nag: false });
  for (const stack of fixture.regionalStacks) {
    const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string; Properties: LambdaFunction }>;
    regions[Stack.of(stack).region] = {
      // Coffer's own functions, not the CDK custom-resource provider the standby deploys.
      functions: Object.values(resources)
        .filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Description?.startsWith('Coffer '))
        .map((r) => r.Properties),
    };
  }
}, SYNTH_TIMEOUT_MS);

afterAll(() => fixture?.dispose());

/** What the function sees: deploy-time references resolved to some value, AWS_REGION added by Lambda. */
function asSeenByTheFunction(variables: Record<string, unknown>, region: string): NodeJS.ProcessEnv {
  const resolved = Object.entries(variables).map(([name, value]) => [name, typeof value === 'string' ? value : `resolved-${name.toLowerCase()}`]);
  return { ...Object.fromEntries(resolved), [ENV.region]: region };
}

describe.each(['eu-west-1', 'eu-central-1'])('the functions environments in %s', (region) => {
  const functions = () => regions[region]!.functions;

  it('finds the eight functions', () => {
    expect(functions()).toHaveLength(8);
  });

  it('set only names the functions read (lambdas/env.ts), and never AWS_REGION, which Lambda sets', () => {
    const known = new Set<string>(Object.values(ENV));
    for (const fn of functions()) {
      const names = Object.keys(fn.Environment.Variables);
      expect(names.filter((name) => !known.has(name)), fn.Description).toEqual([]);
      expect(names, fn.Description).not.toContain(ENV.region);
    }
  });

  it('give every name the configuration requires: each environment loads', () => {
    for (const fn of functions()) {
      const config = loadConfig(asSeenByTheFunction(fn.Environment.Variables, region));
      expect(config.region, fn.Description).toBe(region);
      expect(config.endpoint, `${fn.Description}: no local endpoint when deployed`).toBeUndefined();
      // The other region's signing key, by alias ARN in that region: its tokens verify here.
      const other = region === 'eu-west-1' ? 'eu-central-1' : 'eu-west-1';
      expect(config.peerSigningKeyIds, fn.Description).toHaveLength(1);
      const peerKey = JSON.stringify(fn.Environment.Variables[ENV.peerSigningKeyIds]);
      expect(peerKey, fn.Description).toContain(`:kms:${other}:`);
      expect(peerKey, fn.Description).toContain(':alias/coffer/token-signing');
    }
  });

  it('give the shipper, and only it, the audit signing key it refuses to start without', () => {
    const withAuditKey = functions().filter((fn) => ENV.auditSigningKeyId in fn.Environment.Variables).map((fn) => fn.Description);
    expect(withAuditKey).toEqual(['Coffer audit shipper (table stream to S3)']);
    const shipper = loadConfig(asSeenByTheFunction(functions().find((fn) => withAuditKey.includes(fn.Description))!.Environment.Variables, region));
    expect(shipper.auditBucket && shipper.auditSigningKeyId).toBeTruthy();
  });
});
