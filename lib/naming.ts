import { Aws } from 'aws-cdk-lib';

// Names one region's stack uses for the other region's resources. The two regional stacks
// never pass tokens to each other (a cross-region reference needs a custom resource per
// export and pins the exporting value); each resource has a name both can compute instead.

/** The global table: one name, a replica in each region. */
export const tableName = (stage: string) => `coffer-${stage}`;

/** A region's audit archive (S3 names are global: account and region keep it unique). */
export const auditBucketName = (stage: string, region: string) => `coffer-${stage}-audit-${Aws.ACCOUNT_ID}-${region}`;

export const auditBucketArn = (stage: string, region: string) => `arn:${Aws.PARTITION}:s3:::${auditBucketName(stage, region)}`;

/** A KMS alias as an ARN in a given region; KMS takes it wherever a key id goes. */
export const kmsAliasArn = (region: string, alias: string) => `arn:${Aws.PARTITION}:kms:${region}:${Aws.ACCOUNT_ID}:${alias}`;

/** Every key of this account in a region: IAM names keys, not aliases, so alias grants say `key/*` plus a condition. */
export const anyKmsKeyArn = (region: string) => `arn:${Aws.PARTITION}:kms:${region}:${Aws.ACCOUNT_ID}:key/*`;

/** How cdk-nag prints `anyKmsKeyArn(region)` in a finding id. */
export const renderedAnyKmsKeyArn = (region: string) => `arn:<AWS::Partition>:kms:${region}:<AWS::AccountId>:key/*`;

export const regionalStackName = (stage: string, region: string) => `Coffer-${stage}-${region}`;
export const dnsStackName = (stage: string) => `Coffer-${stage}-dns`;

/** How cdk-nag prints a path below `auditBucketArn(stage, region)` in a finding id. */
export const renderedAuditBucketArn = (stage: string, region: string) =>
  `arn:<AWS::Partition>:s3:::coffer-${stage}-audit-<AWS::AccountId>-${region}`;

/** Tags on every taggable resource of the app. */
export const appTags = (stage: string): Record<string, string> => ({ project: 'coffer', 'coffer:stage': stage });
