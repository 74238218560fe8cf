import { Aws, Duration, Stack, Validations } from 'aws-cdk-lib';
import { FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { CfnBucket, IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { keys, leadingKeys } from '../../lambdas/adapters/dynamodb/keys';
import { MANAGED_KEY_TAG, TENANT_CONTEXT_KEY, TENANT_KEY_TAG } from '../../lambdas/adapters/kms/tenant-key-names';
import { ENV, type FunctionEnvironment } from '../../lambdas/env';
import type { CofferConfig } from '../config';
import { anyKmsKeyArn, kmsAliasArn, renderedAnyKmsKeyArn } from '../naming';
import { OWN_TABLE_GRANTS } from '../own-role-grants';
import { CofferFunction } from './coffer-function';
import { TOKEN_SIGNING_KEY_ALIAS } from './token-signing-key';

/** Prefix of tenant key aliases (`alias/coffer/<tenantId>`, tenant ids start `ten_`). */
export const TENANT_ALIAS_PREFIX = 'alias/coffer/ten_';

export interface VaultFunctionsProps {
  readonly config: CofferConfig;
  readonly table: ITableV2;
  readonly signingKey: IKey;
  readonly auditBucket: IBucket;
  /** Encrypts the audit archive (SSE-KMS): the shipper's puts need a data key from it. */
  readonly auditArchiveKey: IKey;
  /** Signs archived audit batches; only the shipper may use it. */
  readonly auditSigningKey: IKey;
  /** The other region, whose token-signing key this region's verifiers trust. */
  readonly peerRegion: string;
}

/**
 * The vault's Lambdas, one per route group plus the authorizer, each with only the
 * permissions its routes need.
 */
export class VaultFunctions extends Construct {
  readonly authorizer: CofferFunction;
  readonly token: CofferFunction;
  readonly health: CofferFunction;
  readonly tenants: CofferFunction;
  readonly secrets: CofferFunction;
  readonly audit: CofferFunction;
  readonly identity: CofferFunction;
  readonly auditShipper: CofferFunction;

  constructor(scope: Construct, id: string, props: VaultFunctionsProps) {
    super(scope, id);
    const { config, table, signingKey, auditBucket, auditArchiveKey, auditSigningKey, peerRegion } = props;
    // By alias ARN: the peer region's stack creates its key, and neither stack references the other.
    const peerSigningKey = kmsAliasArn(peerRegion, TOKEN_SIGNING_KEY_ALIAS);

    const environment: FunctionEnvironment = {
      [ENV.tableName]: table.tableName,
      [ENV.regions]: config.regions.join(','),
      [ENV.signingKeyId]: signingKey.keyArn,
      [ENV.issuer]: config.issuer,
      [ENV.audience]: config.audience,
      [ENV.auditBucket]: auditBucket.bucketName,
      ...(config.previousSigningKeyArns.length ? { [ENV.previousSigningKeyIds]: config.previousSigningKeyArns.join(',') } : {}),
      [ENV.peerSigningKeyIds]: peerSigningKey,
      [ENV.serviceName]: 'coffer',
    };
    const fn = (name: string, entry: string, description: string, memorySize?: number) =>
      new CofferFunction(this, name, { entry, description, environment, memorySize });

    this.authorizer = fn('Authorizer', 'lambdas/handlers/authorizer.ts', 'Coffer token authorizer', 256);
    this.token = fn('Token', 'lambdas/handlers/token.ts', 'Coffer token issuance and JWKS');
    this.health = fn('Health', 'lambdas/handlers/health.ts', 'Coffer deep health check');
    this.tenants = fn('Tenants', 'lambdas/handlers/tenants.ts', 'Coffer tenant administration');
    this.secrets = fn('Secrets', 'lambdas/handlers/secrets.ts', 'Coffer secrets API');
    this.audit = fn('Audit', 'lambdas/handlers/audit.ts', 'Coffer audit trail query and export');
    this.identity = fn('Identity', 'lambdas/handlers/identity.ts', 'Coffer users, clients, groups, policies, issuers and IAM bindings');

    // Token signing: only the token function signs; verifiers read the public key.
    signingKey.grant(this.authorizer.role, 'kms:GetPublicKey');
    signingKey.grant(this.token.role, 'kms:Sign', 'kms:GetPublicKey');
    signingKey.grant(this.health.role, 'kms:DescribeKey');
    if (config.previousSigningKeyArns.length) {
      // Retired keys verify only: the JWKS keeps them until their last tokens expire.
      const publish = new PolicyStatement({ actions: ['kms:GetPublicKey'], resources: [...config.previousSigningKeyArns] });
      for (const fn of [this.authorizer, this.token]) fn.role.addToPrincipalPolicy(publish);
    }
    this.trustPeerSigningKey(peerRegion);

    table.grantReadData(this.health.role);
    // Logins (before any token names a tenant) and onboarding run as their own roles.
    for (const writer of [this.token, this.tenants]) table.grantReadWriteData(writer.role);
    // The functions serving tenants' requests reach tenant partitions only through the
    // tenant-access role (token vending, TenantAccessRole): their own roles hold a few
    // platform partitions (lib/own-role-grants.ts).
    const ownGrants = { secrets: this.secrets, audit: this.audit, identity: this.identity } as const;
    for (const [name, fn] of Object.entries(ownGrants) as [keyof typeof OWN_TABLE_GRANTS, CofferFunction][]) {
      for (const grant of OWN_TABLE_GRANTS[name]) {
        fn.role.addToPrincipalPolicy(
          new PolicyStatement({
            sid: grant.sid,
            actions: [...grant.actions],
            resources: [table.tableArn],
            // Every action here names its keys; the Null guard still refuses one that names none.
            conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...grant.leadingKeys] }, Null: { 'dynamodb:LeadingKeys': 'false' } },
          }),
        );
      }
    }
    // The authorizer records refused tokens, which name no tenant: the platform chain only.
    this.authorizer.role.addToPrincipalPolicy(
      new PolicyStatement({
        // Query/GetItem find the chain's tail (its last event or the shipped mark).
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
        resources: [table.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [leadingKeys.platformAudit] } },
      }),
    );
    // Each check re-reads the record that minted the token (user, client, issuer, binding),
    // its session and groups: reads only, in identity and client partitions only.
    this.authorizer.role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'CheckTokenRevocation',
        actions: ['dynamodb:BatchGetItem', 'dynamodb:GetItem'],
        resources: [table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [leadingKeys.anyTenantIdentity, leadingKeys.anyTenantMeta, leadingKeys.platform, leadingKeys.platformIdentity] } },
      }),
    );

    // The shipper alone writes to the audit bucket and signs batches. PutObject only:
    // retention comes from the bucket default; it cannot shorten it, hold, read or delete.
    this.auditShipper = new CofferFunction(this, 'AuditShipper', {
      entry: 'lambdas/handlers/audit-shipper.ts',
      description: 'Coffer audit shipper (table stream to S3)',
      environment: { ...environment, [ENV.auditSigningKeyId]: auditSigningKey.keyArn },
      timeout: Duration.minutes(1),
    });
    table.grantReadData(this.auditShipper.role);
    this.auditShipper.role.addToPrincipalPolicy(
      new PolicyStatement({
        // Its shipped mark and each sink's delivery status, in audit partitions only.
        sid: 'RecordShippingProgress',
        actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
        resources: [table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [leadingKeys.anyTenantAudit, leadingKeys.platformAudit] } },
      }),
    );
    this.auditShipper.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['s3:PutObject'], resources: [auditBucket.arnForObjects('audit/*')] }),
    );
    auditSigningKey.grant(this.auditShipper.role, 'kms:Sign');
    auditArchiveKey.grant(this.auditShipper.role, 'kms:GenerateDataKey');
    Validations.of(this.auditShipper.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(auditBucket)}.Arn>/audit/*]`,
      reason:
        'Audit batches are written under per-tenant, per-day prefixes named at runtime; the grant is PutObject only, on a bucket whose Object Lock keeps every object write-once.',
    });
    this.auditShipper.function.addEventSource(
      new DynamoEventSource(table, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(1),
        reportBatchItemFailures: true,
        // Only new audit events wake the shipper, not every secret write.
        filters: [FilterCriteria.filter({ eventName: FilterRule.isEqual('INSERT'), dynamodb: { Keys: { sk: { S: FilterRule.beginsWith(keys.auditEventSkPrefix) } } } })],
      }),
    );

    this.grantTenantKeyAdministration(config);
    this.grantTenantKeyUse(config);
  }

  /**
   * A token signed in the other region verifies here after a failover: the authorizer and
   * the JWKS read the peer key's public half. IAM names keys, not aliases, so the grant is
   * on the region's keys with a condition that the key carries the token-signing alias.
   */
  private trustPeerSigningKey(peerRegion: string): void {
    const readPeerPublicKey = new Policy(this, 'PeerSigningKeyPublicHalf', {
      statements: [
        new PolicyStatement({
          sid: 'ReadPeerRegionSigningKey',
          actions: ['kms:GetPublicKey'],
          resources: [anyKmsKeyArn(peerRegion)],
          conditions: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': [TOKEN_SIGNING_KEY_ALIAS] } },
        }),
      ],
    });
    readPeerPublicKey.attachToRole(this.authorizer.role);
    readPeerPublicKey.attachToRole(this.token.role);
    acknowledgeWildcards(readPeerPublicKey, [
      [
        `Resource::${renderedAnyKmsKeyArn(peerRegion)}`,
        'The other region’s token-signing key is created by its own stack and known here only by alias; GetPublicKey only, and only on a key carrying the alias/coffer/token-signing alias.',
      ],
    ]);
  }

  /** Onboarding creates one KMS key per tenant and region, tags it, and aliases it. */
  private grantTenantKeyAdministration(config: CofferConfig): void {
    const keyArns = config.regions.map((region) => kmsArn(region, 'key/*'));
    const policy = new Policy(this, 'TenantKeyAdministration', {
      statements: [
        new PolicyStatement({
          sid: 'CreateTaggedTenantKeys',
          actions: ['kms:CreateKey'],
          resources: ['*'],
          conditions: {
            Null: { [`aws:RequestTag/${TENANT_KEY_TAG}`]: 'false' },
            StringEquals: {
              [`aws:RequestTag/${MANAGED_KEY_TAG}`]: 'true',
              'aws:RequestedRegion': [...config.regions],
            },
          },
        }),
        new PolicyStatement({
          sid: 'TagAndAliasTenantKeys',
          actions: ['kms:TagResource', 'kms:CreateAlias'],
          resources: keyArns,
        }),
        new PolicyStatement({
          sid: 'CreateTenantAliases',
          actions: ['kms:CreateAlias', 'kms:DeleteAlias'],
          resources: config.regions.map((region) => kmsArn(region, `${TENANT_ALIAS_PREFIX}*`)),
        }),
        new PolicyStatement({
          // A failed onboarding undoes its keys; only keys Coffer tagged as its own.
          sid: 'DiscardUnusedTenantKeys',
          actions: ['kms:DeleteAlias', 'kms:ScheduleKeyDeletion'],
          resources: keyArns,
          conditions: { StringEquals: { [`aws:ResourceTag/${MANAGED_KEY_TAG}`]: 'true' } },
        }),
        new PolicyStatement({
          sid: 'WrapFirstTenantDataKey',
          actions: ['kms:GenerateDataKey', 'kms:Encrypt'],
          resources: keyArns,
          conditions: {
            'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': [TENANT_CONTEXT_KEY] },
          },
        }),
      ],
    });
    policy.attachToRole(this.tenants.role);
    acknowledgeWildcards(policy, [
      [
        'Resource::*',
        'kms:CreateKey supports no resource ARN; the statement requires the coffer:tenant and coffer:managed=true request tags and is limited to the Coffer regions.',
      ],
      ...config.regions.map((region): [string, string] => [
        `Resource::${renderedKmsArn(region, 'key/*')}`,
        'Tenant keys are created at runtime, so their ids are unknown at deploy time; use is limited to keys of this account in the Coffer regions and to calls carrying the coffer:tenant encryption context. No resource-tag condition here: a key tagged a moment ago may not yet satisfy aws:ResourceTag.',
      ]),
      ...config.regions.map((region): [string, string] => [
        `Resource::${renderedKmsArn(region, `${TENANT_ALIAS_PREFIX}*`)}`,
        'Tenant aliases are alias/coffer/ten_<id>, named at onboarding; CreateAlias, and DeleteAlias to undo a failed onboarding, but no UpdateAlias, so an existing alias cannot be repointed; the token-signing alias is outside the pattern.',
      ]),
    ]);
  }

  /**
   * Logins open TOTP seeds sealed under the tenant's data key: the token function unwraps
   * existing data keys. The functions serving tenants' requests use tenant keys only through
   * the tenant-access role, bound to the session's tenant (TenantAccessRole).
   */
  private grantTenantKeyUse(config: CofferConfig): void {
    const unwrap = new Policy(this, 'TenantKeyUnwrap', {
      statements: [
        new PolicyStatement({
          sid: 'UnwrapTenantDataKeys',
          actions: ['kms:Decrypt'],
          resources: config.regions.map((region) => kmsArn(region, 'key/*')),
          conditions: {
            StringEquals: { [`aws:ResourceTag/${MANAGED_KEY_TAG}`]: 'true' },
            'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': [TENANT_CONTEXT_KEY] },
          },
        }),
      ],
    });
    unwrap.attachToRole(this.token.role);
    acknowledgeWildcards(
      unwrap,
      config.regions.map((region) => [
        `Resource::${renderedKmsArn(region, 'key/*')}`,
        'Tenant keys are created at runtime; Decrypt only, of keys tagged coffer:managed=true in this account and the Coffer regions, with the coffer:tenant encryption context.',
      ]),
    );
  }
}

function kmsArn(region: string, resource: string): string {
  return `arn:${Aws.PARTITION}:kms:${region}:${Aws.ACCOUNT_ID}:${resource}`;
}

/** How cdk-nag prints `kmsArn(...)` in a finding id. */
function renderedKmsArn(region: string, resource: string): string {
  return `arn:<AWS::Partition>:kms:${region}:<AWS::AccountId>:${resource}`;
}

function acknowledgeWildcards(scope: Construct, findings: readonly (readonly [string, string])[]): void {
  for (const [finding, reason] of findings) {
    Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
  }
}

function logicalIdOf(bucket: IBucket): string {
  return Stack.of(bucket).getLogicalId(bucket.node.defaultChild as CfnBucket);
}
