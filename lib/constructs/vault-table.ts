import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  Billing,
  type ITableV2,
  StreamViewType,
  TableEncryptionV2,
  TableV2,
} from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { tableAttributes } from '../../lambdas/adapters/dynamodb/keys';

export interface VaultTableProps {
  readonly tableName: string;
  /** Regions holding a replica besides this stack's own (the standby). */
  readonly replicaRegions: readonly string[];
}

/** Recovery settings every replica carries, not only the one in the owning region. */
const REPLICA_PROTECTION = {
  deletionProtection: true,
  pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
} as const;

/**
 * The single global table holding every tenant's items (key layout:
 * lambdas/adapters/dynamodb/keys.ts), owned by the primary region's stack: one
 * AWS::DynamoDB::GlobalTable resource creates the replica in each standby region too
 * (multi-Region eventual consistency; DESIGN.md says why not strong).
 */
export class VaultTable extends Construct {
  static readonly TTL_ATTRIBUTE = tableAttributes.timeToLive;

  readonly table: ITableV2;

  constructor(scope: Construct, id: string, props: VaultTableProps) {
    super(scope, id);

    this.table = new TableV2(this, 'Table', {
      tableName: props.tableName,
      partitionKey: { name: tableAttributes.partitionKey, type: AttributeType.STRING },
      sortKey: { name: tableAttributes.sortKey, type: AttributeType.STRING },
      billing: Billing.onDemand(),
      // Global tables replicate through the stream; NEW_AND_OLD_IMAGES also feeds the RPO probe.
      // Each replica has its own stream: each region's audit shipper reads its own.
      dynamoStream: StreamViewType.NEW_AND_OLD_IMAGES,
      ...REPLICA_PROTECTION,
      replicas: props.replicaRegions.map((region) => ({ region, ...REPLICA_PROTECTION })),
      timeToLiveAttribute: VaultTable.TTL_ATTRIBUTE,
      // Secret values are already envelope-encrypted under tenant keys; the table key
      // protects metadata. The AWS-managed key (aws/dynamodb) exists in every region, so
      // each replica is encrypted under its own region's key, and the primary's stack needs
      // no key ARN from a region it has not deployed yet (a customer key per replica would).
      encryption: TableEncryptionV2.awsManagedKey(),
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
