import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { definedVariables, ENV, type FunctionEnvironment } from '../../lambdas/env';
import { API_FUNCTION_TIMEOUT_SECONDS } from '../../lambdas/route-manifest';

/** Repository root, where `package-lock.json` and `lambdas/` live. */
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** ESM bundles still meet CommonJS dependencies that call `require`. */
const ESM_REQUIRE_SHIM =
  "import { createRequire } from 'module';const require = createRequire(import.meta.url);";

/** Every Coffer function's runtime; the tests run on the same major (the pinned `node` package). */
export const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;

export interface CofferFunctionProps {
  /** Handler module relative to the repository root, e.g. `lambdas/handlers/token.ts`. */
  readonly entry: string;
  readonly description: string;
  readonly environment: FunctionEnvironment;
  readonly memorySize?: number;
  readonly timeout?: Duration;
  readonly logRetention?: RetentionDays;
}

/**
 * A Coffer Lambda: Node.js 24 on arm64, ESM bundle built locally by esbuild (no Docker),
 * active tracing, its own log group with a retention, and a role that starts empty —
 * no AWS-managed policy — so every permission it holds is granted explicitly.
 */
export class CofferFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: CofferFunctionProps) {
    super(scope, id);
    const entry = join(PROJECT_ROOT, props.entry);
    if (!existsSync(entry)) {
      throw new Error(`CofferFunction ${id}: handler entry ${props.entry} does not exist`);
    }

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the Coffer ${id} function`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: LAMBDA_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(API_FUNCTION_TIMEOUT_SECONDS),
      tracing: Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      environment: definedVariables({
        ...props.environment,
        [ENV.nodeOptions]: '--enable-source-maps',
      }),
      bundling: {
        format: OutputFormat.ESM,
        target: `node${LAMBDA_RUNTIME.name.replace(/^nodejs|\.x$/g, '')}`,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_SHIM,
        // Ship the SDK versions the tests ran against instead of the runtime's copy.
        bundleAwsSDK: true,
      },
    });

    // Statements that need `*` go into their own Policy constructs, each acknowledged there,
    // so this acknowledgement covers only the tracing statement of the default policy.
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions.',
    });
  }
}
