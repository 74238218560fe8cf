import { Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type CfnBucket } from 'aws-cdk-lib/aws-s3';
import { PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { anyKmsKeyArn, auditBucketArn, auditBucketName, kmsAliasArn, renderedAnyKmsKeyArn, renderedAuditBucketArn } from '../naming';
import { AUDIT_ARCHIVE_KEY_ALIAS, AUDIT_ARCHIVE_PREFIX } from './audit-bucket';
import type { DeployTimeCalls } from './deploy-time-calls';

export interface ArchiveReplicationProps {
  readonly stage: string;
  /** The region whose archive is copied. */
  readonly from: string;
  /** The region that receives the copy (its bucket is Object Lock too, so the copy is locked). */
  readonly to: string;
}

/**
 * S3 cross-region replication of one region's audit archive into the other region's.
 * Both buckets and keys are named by `lib/naming.ts`, so either stack can build either
 * direction without a reference to the other. Replica objects keep their Object Lock
 * retention; delete markers are not replicated (an archive has none to send).
 */
export class ArchiveReplication extends Construct {
  readonly role: Role;
  /** The replication configuration in the S3 API's (and CloudFormation's) own shape. */
  readonly configuration: Record<string, unknown>;

  constructor(scope: Construct, id: string, private readonly props: ArchiveReplicationProps) {
    super(scope, id);
    const { stage, from, to } = props;
    const source = auditBucketArn(stage, from);
    const destination = auditBucketArn(stage, to);
    const objects = (bucketArn: string) => `${bucketArn}/${AUDIT_ARCHIVE_PREFIX}*`;
    // With an S3 Bucket Key the encryption context is the bucket ARN, without one the object's.
    const s3Context = (bucketArn: string) => [bucketArn, objects(bucketArn)];

    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('s3.amazonaws.com'),
      description: `Replicates the Coffer audit archive from ${from} to ${to}`,
    });
    this.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['s3:GetReplicationConfiguration', 's3:ListBucket'], resources: [source] }),
    );
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging', 's3:GetObjectRetention', 's3:GetObjectLegalHold'],
        resources: [objects(source)],
      }),
    );
    this.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:ReplicateObject', 's3:ReplicateTags'], resources: [objects(destination)] }));
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [anyKmsKeyArn(from)],
        conditions: {
          StringEquals: { 'kms:ViaService': `s3.${from}.amazonaws.com` },
          StringLike: { 'kms:EncryptionContext:aws:s3:arn': s3Context(source) },
        },
      }),
    );
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['kms:Encrypt', 'kms:GenerateDataKey'],
        resources: [anyKmsKeyArn(to)],
        conditions: {
          StringEquals: { 'kms:ViaService': `s3.${to}.amazonaws.com` },
          StringLike: { 'kms:EncryptionContext:aws:s3:arn': s3Context(destination) },
        },
      }),
    );
    const archivePaths = `/${AUDIT_ARCHIVE_PREFIX}*`;
    for (const [finding, reason] of [
      [`${renderedAuditBucketArn(stage, from)}${archivePaths}`, 'Replication reads every archived batch, named at runtime below the audit/ prefix of the source archive; read-for-replication actions only.'],
      [`${renderedAuditBucketArn(stage, to)}${archivePaths}`, 'Replication writes the copies below the audit/ prefix of the other region’s archive, whose Object Lock keeps them write-once; no delete.'],
      [renderedAnyKmsKeyArn(from), 'IAM names keys, not aliases, and the source archive key lives in the other stack; Decrypt only, only via S3 in that region and only for the source archive (encryption-context condition).'],
      [renderedAnyKmsKeyArn(to), 'The destination archive key lives in the other stack and is named to S3 by alias; Encrypt only via S3 in that region and only for the destination archive (encryption-context condition).'],
    ] as const) {
      Validations.of(this.role).acknowledge({ id: `AwsSolutions-IAM5[Resource::${finding}]`, reason });
    }

    this.configuration = {
      Role: this.role.roleArn,
      Rules: [
        {
          Id: `audit-archive-to-${to}`,
          Status: 'Enabled',
          Priority: 1,
          Filter: { Prefix: AUDIT_ARCHIVE_PREFIX },
          DeleteMarkerReplication: { Status: 'Disabled' },
          SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
          Destination: {
            Bucket: destination,
            // S3 takes an alias ARN here: the other region's key needs no cross-stack reference.
            EncryptionConfiguration: { ReplicaKmsKeyID: kmsAliasArn(to, AUDIT_ARCHIVE_KEY_ALIAS) },
            // Replication Time Control: a 15-minute SLA and the metrics the alarms watch.
            ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } },
            Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } },
          },
        },
      ],
    };
  }

  /** For the bucket in this stack: replication as part of its CloudFormation resource. */
  applyTo(bucket: CfnBucket): void {
    bucket.addPropertyOverride('ReplicationConfiguration', this.configuration);
  }

  /**
   * For the bucket in the *other* stack, deployed earlier: S3 refuses a replication rule
   * whose destination bucket does not exist yet, so the first-deployed (primary) archive
   * cannot name the standby's at its creation. The later stack sets it with one
   * PutBucketReplication once both exist (and removes it when it is deleted). The primary's
   * template leaves ReplicationConfiguration out, so its updates never touch this setting.
   */
  applyToPeer(calls: DeployTimeCalls): void {
    const { stage, from } = this.props;
    const bucket = auditBucketName(stage, from);
    calls.call(`Replicate${this.node.id}`, {
      onCreate: {
        service: 'S3',
        action: 'putBucketReplication',
        region: from,
        parameters: { Bucket: bucket, ReplicationConfiguration: this.configuration },
        physicalResourceId: PhysicalResourceId.of(`${bucket}-replication`),
      },
      onDelete: { service: 'S3', action: 'deleteBucketReplication', region: from, parameters: { Bucket: bucket } },
      statements: [
        // PutBucketReplication and DeleteBucketReplication are both this IAM action.
        new PolicyStatement({ actions: ['s3:PutReplicationConfiguration'], resources: [auditBucketArn(stage, from)] }),
        new PolicyStatement({ actions: ['iam:PassRole'], resources: [this.role.roleArn] }),
      ],
    });
  }
}
