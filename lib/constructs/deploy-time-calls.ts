import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { type PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { AwsCustomResource, AwsCustomResourcePolicy, type AwsSdkCall } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';

export interface DeployTimeCallProps {
  readonly onCreate: AwsSdkCall;
  /** Defaults to `onCreate`, so a changed parameter is applied again. */
  readonly onUpdate?: AwsSdkCall;
  readonly onDelete?: AwsSdkCall;
  /** Exactly what the calls need: a Policy on the shared role, which the call waits for. */
  readonly statements: readonly PolicyStatement[];
}

/**
 * AWS API calls CloudFormation has no resource for, made once at deploy time. Every
 * AwsCustomResource in a stack runs in one singleton Lambda: it gets one role here that
 * starts empty (no AWS-managed policy), a log group with a retention, and no SDK download
 * at deploy time (the runtime's own SDK; deploys need no internet from the function).
 */
export class DeployTimeCalls extends Construct {
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', { retention: RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Deploy-time AWS API calls of the Coffer stack (AwsCustomResource provider)',
    });
    this.logGroup.grantWrite(this.role);
  }

  call(id: string, props: DeployTimeCallProps): AwsCustomResource {
    return new AwsCustomResource(this, id, {
      onCreate: props.onCreate,
      onUpdate: props.onUpdate ?? props.onCreate,
      onDelete: props.onDelete,
      role: this.role,
      policy: AwsCustomResourcePolicy.fromStatements([...props.statements]),
      logGroup: this.logGroup,
      installLatestAwsSdk: false,
      timeout: Duration.minutes(2),
    });
  }
}
