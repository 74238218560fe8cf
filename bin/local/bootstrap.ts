import { CreateTableCommand, DeleteTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutObjectLockConfigurationCommand, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { TENANT_SESSION_TAG } from '../../lambdas/adapters/sts/tenant-session';
import { ENV } from '../../lambdas/env';

// The local stand-in for what the CDK stack provisions: the table (in DynamoDB Local), the
// audit bucket and the token-signing keys (in moto), created with the real SDK calls.
export interface LocalAwsResources {
  readonly table: string;
  readonly auditBucket: string;
  readonly signingKeyArn: string;
  readonly signingKeyAlias: string;
  /** Signs archived audit batches; a separate key, so the shipper can never mint tokens. */
  readonly auditSigningKeyAlias: string;
  /** Assumed per tenant by the request functions (token vending); moto mints the sessions. */
  readonly tenantAccessRoleArn: string;
}

export const LOCAL_REGIONS = ['eu-west-1', 'eu-central-1'] as const;

/** Where the local AWS APIs answer: moto for most, DynamoDB Local for the table and its stream. */
export interface LocalEndpoints {
  readonly aws: string;
  readonly dynamodb: string;
}

export function localAwsEnv(endpoints: LocalEndpoints): Record<string, string> {
  return {
    [ENV.endpoint]: endpoints.aws,
    [ENV.dynamodbEndpoint]: endpoints.dynamodb,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    [ENV.region]: LOCAL_REGIONS[0],
  };
}

export async function provisionLocalAws(endpoints: LocalEndpoints, options: { name?: string } = {}): Promise<LocalAwsResources> {
  const endpoint = endpoints.aws;
  const region = LOCAL_REGIONS[0];
  const suffix = options.name ?? randomBytes(4).toString('hex');
  const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  const dynamo = new DynamoDBClient({ region, endpoint: endpoints.dynamodb, credentials });
  const kms = new KMSClient({ region, endpoint, credentials });
  const s3 = new S3Client({ region, endpoint, credentials, forcePathStyle: true });

  const table = `coffer-${suffix}`;
  await dynamo.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  await waitUntilTableExists({ client: dynamo, maxWaitTime: 30 }, { TableName: table });

  const auditBucket = `coffer-audit-${suffix}`;
  await s3.send(new CreateBucketCommand({ Bucket: auditBucket, ObjectLockEnabledForBucket: true, CreateBucketConfiguration: { LocationConstraint: region } }));
  await s3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: auditBucket,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } } },
    }),
  );

  const key = await kms.send(
    new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Description: 'Coffer access-token signing key (local)' }),
  );
  const signingKeyArn = key.KeyMetadata!.Arn!;
  const signingKeyAlias = `alias/coffer/token-signing-${suffix}`;
  await kms.send(new CreateAliasCommand({ AliasName: signingKeyAlias, TargetKeyId: signingKeyArn }));

  const auditKey = await kms.send(
    new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Description: 'Coffer audit batch signing key (local)' }),
  );
  const auditSigningKeyAlias = `alias/coffer/audit-signing-${suffix}`;
  await kms.send(new CreateAliasCommand({ AliasName: auditSigningKeyAlias, TargetKeyId: auditKey.KeyMetadata!.Arn! }));

  // moto mints real-looking sessions of it but evaluates no policy, and DynamoDB Local none
  // either: locally the tenant confinement is what the tests check each call against.
  const iam = new IAMClient({ region, endpoint, credentials });
  const role = await iam.send(
    new CreateRoleCommand({
      RoleName: `coffer-tenant-access-${suffix}`,
      Description: 'Coffer tenant-scoped access (local)',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::123456789012:root' },
            Action: ['sts:AssumeRole', 'sts:TagSession'],
            Condition: { StringLike: { [`aws:RequestTag/${TENANT_SESSION_TAG}`]: 'ten_*' } },
          },
        ],
      }),
    }),
  );

  dynamo.destroy();
  kms.destroy();
  s3.destroy();
  iam.destroy();
  return { table, auditBucket, signingKeyArn, signingKeyAlias, auditSigningKeyAlias, tenantAccessRoleArn: role.Role!.Arn! };
}

export async function dropTable(dynamodbEndpoint: string, table: string): Promise<void> {
  const dynamo = new DynamoDBClient({ region: LOCAL_REGIONS[0], endpoint: dynamodbEndpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  try {
    await dynamo.send(new DeleteTableCommand({ TableName: table }));
  } finally {
    dynamo.destroy();
  }
}
