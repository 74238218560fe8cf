import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Key } from 'aws-cdk-lib/aws-kms';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  ObjectLockRetention,
  ObjectOwnership,
  StorageClass,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { chainPrefix } from '../../lambdas/core/audit-archive';

/** KMS alias of each region's archive key; the other region's replication names it by alias ARN. */
export const AUDIT_ARCHIVE_KEY_ALIAS = 'alias/coffer/audit-archive';

/** Where the shipper writes (`audit/<chain>/…`, lambdas/core/audit-archive.ts): what replicates. */
export const AUDIT_ARCHIVE_PREFIX = chainPrefix('').replace(/\/$/, '');

export interface AuditBucketProps {
  /** A fixed name, so the other region can replicate into it without a cross-stack reference. */
  readonly bucketName: string;
  /** Compliance-mode retention applied to every audit object. */
  readonly retention?: Duration;
}

/**
 * Write-once store for audit events (per-tenant prefixes). Object Lock in COMPLIANCE mode
 * means no one — not even the account root — can delete or overwrite an event before its
 * retention ends; the hash chain inside the events makes gaps detectable on top of that.
 * Encrypted under a customer key of its own region (SSE-KMS with an S3 Bucket Key).
 */
export class AuditBucket extends Construct {
  static readonly DEFAULT_RETENTION = Duration.days(365);

  readonly bucket: Bucket;
  readonly accessLogsBucket: Bucket;
  readonly key: Key;

  constructor(scope: Construct, id: string, props: AuditBucketProps) {
    super(scope, id);
    const retention = props.retention ?? AuditBucket.DEFAULT_RETENTION;

    // S3 server access logs only support SSE-S3 on the target bucket.
    this.accessLogsBucket = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: retention, noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.accessLogsBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This is the server-access-log target of the audit bucket; logging it into itself or a third bucket would only log the log deliveries.',
    });

    this.key = new Key(this, 'Key', {
      description: 'Coffer audit archive encryption (SSE-KMS)',
      alias: AUDIT_ARCHIVE_KEY_ALIAS,
      enableKeyRotation: true,
      // The archive outlives the stack (Object Lock); so must the key that opens it.
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });

    this.bucket = new Bucket(this, 'Bucket', {
      bucketName: props.bucketName,
      objectLockEnabled: true,
      objectLockDefaultRetention: ObjectLockRetention.compliance(retention),
      versioned: true,
      encryption: BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'audit-bucket/',
      lifecycleRules: [
        {
          id: 'archive-to-glacier-instant-retrieval',
          // Read back only by `coffer audit verify`: millisecond access at archive prices.
          transitions: [{ storageClass: StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(90) }],
          noncurrentVersionTransitions: [{ storageClass: StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(90) }],
          abortIncompleteMultipartUploadAfter: Duration.days(1),
          // No expiry of noncurrent versions: the *first* version of a key is the authoritative
          // one (lambdas/adapters/s3/audit-archive.ts), and a re-ship makes it noncurrent.
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
