import { Runtime } from 'aws-cdk-lib/aws-lambda';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LAMBDA_RUNTIME } from '../../lib/constructs/coffer-function';

// The runtime we test is the runtime we deploy: the pinned `node` package, the engines
// field and the Lambda runtime of every function name the same major.
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string }; devDependencies: Record<string, string> };
const major = (version: string) => version.replace(/^[^\d]*/, '').split('.')[0];

describe('Node runtime', () => {
  it('runs the tests on the major the Lambda functions deploy', () => {
    expect(LAMBDA_RUNTIME).toBe(Runtime.NODEJS_24_X);
    const deployed = LAMBDA_RUNTIME.name.replace(/^nodejs|\.x$/g, '');
    expect(major(process.versions.node)).toBe(deployed);
    expect(major(pkg.devDependencies.node!)).toBe(deployed);
    expect(major(pkg.engines.node)).toBe(deployed);
  });
});
