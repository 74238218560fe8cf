import { App, type AppProps, type Stack, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type CofferConfig, loadConfig } from './config';
import { appTags, dnsStackName, regionalStackName } from './naming';
import { DnsStack } from './stacks/dns-stack';
import { RegionalStack } from './stacks/regional-stack';

/**
 * CDK feature flags, kept in code rather than cdk.json so that the in-process test apps
 * and `cdk synth` build the same template (the CLI passes cdk.json context; tests do not).
 * Context given by the caller or on the command line still wins.
 */
export const FEATURE_FLAGS = {
  '@aws-cdk/core:checkSecretUsage': true,
  '@aws-cdk/aws-iam:minimizePolicies': true,
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
  '@aws-cdk/aws-s3:createDefaultLoggingPolicy': true,
  '@aws-cdk/aws-s3:publicAccessBlockedByDefault': true,
  '@aws-cdk/aws-apigateway:requestValidatorUniqueId': true,
  '@aws-cdk/aws-apigateway:authorizerChangeDeploymentLogicalId': true,
  '@aws-cdk/aws-apigateway:logGroupDestinationArnWithoutWildcard': true,
  '@aws-cdk/aws-kms:aliasNameRef': true,
  '@aws-cdk/aws-kms:reduceCrossAccountRegionPolicyScope': true,
  '@aws-cdk/aws-dynamodb:retainTableReplica': true,
  '@aws-cdk/aws-dynamodb:resourcePolicyPerReplica': true,
} as const;

export interface CofferAppOptions extends AppProps {
  /** Run the cdk-nag AWS Solutions pack at synth; any unacknowledged finding fails it. */
  readonly nag?: boolean;
}

export interface CofferApp {
  readonly app: App;
  readonly config: CofferConfig;
  /** The primary's, then the standby's. */
  readonly regionalStacks: readonly [RegionalStack, RegionalStack];
  readonly dns: DnsStack;
  /** Every stack, in deploy order. */
  readonly stacks: readonly Stack[];
}

/**
 * Builds the Coffer CDK app: a regional stack in the primary region (it owns the global
 * table), one in the standby, deployed after it, and the Route 53 failover stack last.
 * Shared by `bin/app.ts` and the infra tests, so both check the same tree.
 */
export function createCofferApp(options: CofferAppOptions = {}): CofferApp {
  const { nag = true, ...appProps } = options;
  const app = new App({ ...appProps, context: { ...FEATURE_FLAGS, ...appProps.context } });
  const config = loadConfig(app.node);

  const [primary, standby] = config.regions.map(
    (region) => new RegionalStack(app, regionalStackName(config.stage, region), { config, region }),
  ) as [RegionalStack, RegionalStack];
  // The standby's replica exists once the primary's table does; its stack reads its stream.
  standby.addStackDependency(primary, 'the global table and its standby replica are created by the primary stack');
  // Last: its records point at, and its health checks probe, names the regional stacks create.
  const dns = new DnsStack(app, dnsStackName(config.stage), { config });
  for (const regional of [primary, standby]) dns.addStackDependency(regional, 'the failover records name the regional API domains');

  for (const [key, value] of Object.entries(appTags(config.stage))) Tags.of(app).add(key, value);
  if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

  return { app, config, regionalStacks: [primary, standby], dns, stacks: [primary, standby, dns] };
}
