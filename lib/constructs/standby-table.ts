import { Stack } from 'aws-cdk-lib';
import { type ITableV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { DeployTimeCalls } from './deploy-time-calls';

export interface StandbyTableProps {
  /** The global table's name; the primary region's stack created it with this replica. */
  readonly tableName: string;
  readonly calls: DeployTimeCalls;
}

/**
 * This region's replica of the global table the primary's stack owns, imported by name.
 *
 * Its stream ARN is read at deploy time with DescribeTable, here in this region. The ARN
 * ends in a creation timestamp, so it cannot be computed; `TableV2.replica(region)` gives
 * only the pattern `…/stream/*` (enough for IAM, not for an event source mapping, which
 * needs the exact ARN); and a cross-region reference to the primary's stack would hand over
 * the *primary's* stream. The shipper here must read this replica's own stream: it sees the
 * writes this region takes after a failover.
 */
export class StandbyTable extends Construct {
  readonly table: ITableV2;

  constructor(scope: Construct, id: string, props: StandbyTableProps) {
    super(scope, id);
    const replicaArn = Stack.of(this).formatArn({ service: 'dynamodb', resource: 'table', resourceName: props.tableName });

    const describe = props.calls.call('DescribeReplica', {
      onCreate: {
        service: 'DynamoDB',
        action: 'describeTable',
        parameters: { TableName: props.tableName },
        // Read again only when these parameters change: a stream switched off and on gets a
        // new ARN, and then needs a change here (the table's stream is never switched off).
        physicalResourceId: PhysicalResourceId.of(`${props.tableName}-stream`),
        outputPaths: ['Table.LatestStreamArn'],
      },
      statements: [new PolicyStatement({ actions: ['dynamodb:DescribeTable'], resources: [replicaArn] })],
    });

    this.table = TableV2.fromTableAttributes(this, 'Replica', {
      tableName: props.tableName,
      tableStreamArn: describe.getResponseField('Table.LatestStreamArn'),
    });
  }
}
