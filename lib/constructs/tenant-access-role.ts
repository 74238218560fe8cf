import { Validations } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { ArnPrincipal, CompositePrincipal, Effect, type IRole, Policy, PolicyStatement, Role } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { MANAGED_KEY_TAG, TENANT_CONTEXT_KEY, TENANT_KEY_TAG } from '../../lambdas/adapters/kms/tenant-key-names';
import { TENANT_SESSION_TAG } from '../../lambdas/adapters/sts/tenant-session';
import { ENV } from '../../lambdas/env';
import { anyKmsKeyArn, renderedAnyKmsKeyArn } from '../naming';
import { tenantAuditPartition, tenantPartitionsPattern } from '../tenant-partitions';
import type { CofferFunction } from './coffer-function';

/** The tenant a session is for, as IAM reads it back from the session tag. */
export const SESSION_TENANT = `\${aws:PrincipalTag/${TENANT_SESSION_TAG}}`;

/** Tenant ids are `ten_` + 20 base32 characters (lambdas/core/ids.ts); `?` is one character. */
export const TENANT_ID_GLOB = `ten_${'?'.repeat(20)}`;

/**
 * The item actions a tenant's requests need. Transactions are authorized per item by
 * these actions; there is no Scan, no table or stream action, and no wildcard.
 */
export const TENANT_ITEM_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
] as const;

export interface TenantAccessRoleProps {
  /** This region's replica. */
  readonly table: ITableV2;
  /** Both regions: a data key is wrapped under the tenant's key in each. */
  readonly regions: readonly string[];
  /** The request functions that may assume the role, one tenant per session. */
  readonly assumers: readonly CofferFunction[];
}

/**
 * IAM-enforced tenant isolation, the token-vending pattern of the AWS SaaS Builder
 * Toolkit: a request function assumes this role with the STS session tag `TenantId` (the
 * tenant of the verified token), and the session can reach only that tenant's partitions
 * and use tenant keys only with that tenant's encryption context. Defence in depth behind
 * the tenant-bound repositories: the runtime mints these sessions in one place
 * (lambdas/adapters/sts/tenant-session.ts) and signs every call of a tenant's request with
 * one (lambdas/adapters/aws-clients.ts, createRequestClients).
 */
export class TenantAccessRole extends Construct {
  readonly role: Role;

  constructor(scope: Construct, id: string, props: TenantAccessRoleProps) {
    super(scope, id);
    const assumerRoles: IRole[] = props.assumers.map((fn) => fn.role);

    this.role = new Role(this, 'Role', {
      description: 'Coffer tenant-scoped access: one tenant per session, named by the TenantId session tag',
      assumedBy: new CompositePrincipal(...assumerRoles.map((role) => new ArnPrincipal(role.roleArn)))
        .withSessionTags()
        .withConditions({
          // The tag must be there and look like a tenant id; only that tag may be set; and no
          // IAM wildcard may hide in it (`${*}` and `${?}` are a literal * and ?).
          StringLike: { [`aws:RequestTag/${TENANT_SESSION_TAG}`]: TENANT_ID_GLOB },
          StringNotLike: { [`aws:RequestTag/${TENANT_SESSION_TAG}`]: ['*${*}*', '*${?}*'] },
          'ForAllValues:StringEquals': { 'aws:TagKeys': [TENANT_SESSION_TAG] },
        }),
    });

    const leadingKeys = tenantPartitionsPattern(SESSION_TENANT);
    const policy = new Policy(this, 'TenantScope', {
      statements: [
        new PolicyStatement({
          sid: 'TenantPartitionsOnly',
          actions: [...TENANT_ITEM_ACTIONS],
          resources: [props.table.tableArn],
          conditions: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [leadingKeys] },
            // ForAllValues is true when the key is absent (a request naming no partition):
            // require that the request names one.
            Null: { 'dynamodb:LeadingKeys': 'false' },
          },
        }),
        new PolicyStatement({
          // Events are appended (a conditional put, in the change's transaction); nothing
          // in a request rewrites the chain. (Deleting a sink removes its delivery status,
          // which lives in this partition, so DeleteItem cannot be denied here yet.)
          sid: 'AuditChainAppendOnly',
          effect: Effect.DENY,
          actions: ['dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'],
          resources: [props.table.tableArn],
          conditions: { 'ForAnyValue:StringEquals': { 'dynamodb:LeadingKeys': [tenantAuditPartition(SESSION_TENANT)] } },
        }),
        new PolicyStatement({
          sid: 'OwnTenantKeysOnly',
          actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
          resources: props.regions.map(anyKmsKeyArn),
          conditions: {
            StringEquals: {
              [`kms:EncryptionContext:${TENANT_CONTEXT_KEY}`]: SESSION_TENANT,
              [`aws:ResourceTag/${TENANT_KEY_TAG}`]: SESSION_TENANT,
              [`aws:ResourceTag/${MANAGED_KEY_TAG}`]: 'true',
            },
          },
        }),
      ],
    });
    policy.attachToRole(this.role);
    for (const region of props.regions) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${renderedAnyKmsKeyArn(region)}]`,
        reason:
          'Tenant keys are created at onboarding, so their ids are unknown at deploy time; use is limited to keys tagged coffer:managed=true and coffer:tenant=<the session tenant>, with that tenant as the coffer:tenant encryption context.',
      });
    }

    for (const fn of props.assumers) {
      this.role.grant(fn.role, 'sts:AssumeRole', 'sts:TagSession');
      fn.function.addEnvironment(ENV.tenantAccessRoleArn, this.role.roleArn);
    }
  }
}
