import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  Billing,
  StreamViewType,
  TableEncryptionV2,
  TableV2,
} from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { tableAttributes } from '../../lambdas/adapters/dynamodb/keys';

export interface VaultTableProps {
  readonly tableName: string;
}

/**
 * The single table holding every tenant's items (key layout: lambdas/adapters/dynamodb/keys.ts).
 * A TableV2 so the standby region can be added as a replica (global table) without
 * replacing the resource.
 */
export class VaultTable extends Construct {
  static readonly TTL_ATTRIBUTE = tableAttributes.timeToLive;

  readonly table: TableV2;

  constructor(scope: Construct, id: string, props: VaultTableProps) {
    super(scope, id);

    this.table = new TableV2(this, 'Table', {
      tableName: props.tableName,
      partitionKey: { name: tableAttributes.partitionKey, type: AttributeType.STRING },
      sortKey: { name: tableAttributes.sortKey, type: AttributeType.STRING },
      billing: Billing.onDemand(),
      // Global tables replicate through the stream; NEW_AND_OLD_IMAGES also feeds the RPO probe.
      dynamoStream: StreamViewType.NEW_AND_OLD_IMAGES,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      timeToLiveAttribute: VaultTable.TTL_ATTRIBUTE,
      // Secret values are already envelope-encrypted under tenant keys; the table key
      // protects metadata. An AWS-managed key works for every replica region.
      encryption: TableEncryptionV2.awsManagedKey(),
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
