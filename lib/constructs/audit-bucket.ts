import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  ObjectLockRetention,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface AuditBucketProps {
  /** Compliance-mode retention applied to every audit object. */
  readonly retention?: Duration;
}

/**
 * Write-once store for audit events (per-tenant prefixes). Object Lock in COMPLIANCE mode
 * means no one — not even the account root — can delete or overwrite an event before its
 * retention ends; the hash chain inside the events makes gaps detectable on top of that.
 */
export class AuditBucket extends Construct {
  static readonly DEFAULT_RETENTION = Duration.days(365);

  readonly bucket: Bucket;
  readonly accessLogsBucket: Bucket;

  constructor(scope: Construct, id: string, props: AuditBucketProps = {}) {
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

    this.bucket = new Bucket(this, 'Bucket', {
      objectLockEnabled: true,
      objectLockDefaultRetention: ObjectLockRetention.compliance(retention),
      versioned: true,
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'audit-bucket/',
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
