import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYNTH_TIMEOUT_MS, type TempApp, tempApp } from './fixture';

/**
 * Rules passed to --ignore-checks, each with the reason:
 * - W3005 "dependency already enforced by GetAtt": aws-lambda's Function adds DependsOn on
 *   its role (to order the role's default policy first); the role is also referenced by
 *   GetAtt, so the extra DependsOn is redundant but harmless and not ours to remove.
 */
const IGNORED_CHECKS = ['W3005'];

let fixture: TempApp;

beforeAll(() => {
  // Real bundling here: the templates cfn-lint sees are the ones `cdk deploy` would upload.
  // cdk-nag has its own test; leaving it out lets cfn-lint report on its own.
  fixture = tempApp({ nag: false });
  fixture.app.synth();
}, SYNTH_TIMEOUT_MS);

afterAll(() => fixture?.dispose());

describe('cfn-lint', () => {
  it('bundled every function into an ESM asset (the regions share the eight bundles)', () => {
    // The other asset is the CDK custom-resource provider, shipped as CDK builds it.
    const assets = readdirSync(fixture.outdir).filter((name) => name.startsWith('asset.') && existsSync(join(fixture.outdir, name, 'index.mjs')));
    expect(assets).toHaveLength(8);
    for (const asset of assets) {
      expect(existsSync(join(fixture.outdir, asset, 'index.mjs')), asset).toBe(true);
      expect(existsSync(join(fixture.outdir, asset, 'index.mjs.map')), asset).toBe(true);
    }
  });

  it('synthesizes a template for each stack', () => {
    expect(fixture.stacks.map((stack) => `${stack.stackName} in ${stack.region}`)).toEqual([
      'Coffer-dev-eu-west-1 in eu-west-1',
      'Coffer-dev-eu-central-1 in eu-central-1',
      'Coffer-dev-dns in us-east-1',
    ]);
  });

  it.each(['Coffer-dev-eu-west-1', 'Coffer-dev-eu-central-1', 'Coffer-dev-dns'])(
    'finds no errors or warnings in %s, linted for the region it deploys to',
    (stackName) => {
      const stack = fixture.stacks.find((s) => s.stackName === stackName)!;
      const result = spawnSync(
        'cfn-lint',
        ['--regions', stack.region, '--ignore-checks', ...IGNORED_CHECKS, '--', join(fixture.outdir, stack.templateFile)],
        { encoding: 'utf8', timeout: 90_000 },
      );
      expect(result.error, 'cfn-lint must be on PATH').toBeUndefined();
      // Exit status 0: no errors (2), warnings (4) or informational findings (8).
      expect({ status: result.status, output: `${result.stdout}${result.stderr}` }).toEqual({ status: 0, output: '' });
    },
    SYNTH_TIMEOUT_MS,
  );
});
