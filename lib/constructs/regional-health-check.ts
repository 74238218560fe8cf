import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { HealthCheck, HealthCheckType } from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { type CofferConfig, regionalApiDomain } from '../config';

/** The deep health route (lambdas/handlers/health-routes.ts): 200 while the region can serve, else 503. */
export const HEALTH_PATH = '/health';

export interface RegionalHealthCheckProps {
  readonly config: CofferConfig;
  readonly region: string;
}

/**
 * Route 53 probing one region's deep `/health` over HTTPS on that region's own name, so
 * it tests what a client would reach there: DNS, certificate, custom domain, WAF, API,
 * Lambda, the replica and KMS.
 */
export class RegionalHealthCheck extends Construct {
  readonly healthCheck: HealthCheck;
  /** 1 while healthy, 0 when unhealthy (the minimum of a minute catches a short outage). */
  readonly status: Metric;
  /** In ALARM while Route 53 considers the region unhealthy, i.e. while it would not send traffic there. */
  readonly alarm: Alarm;

  constructor(scope: Construct, id: string, props: RegionalHealthCheckProps) {
    super(scope, id);
    const { failover } = props.config;
    this.healthCheck = new HealthCheck(this, 'HealthCheck', {
      type: HealthCheckType.HTTPS,
      fqdn: regionalApiDomain(props.config, props.region),
      port: 443,
      resourcePath: HEALTH_PATH,
      enableSNI: true,
      requestInterval: Duration.seconds(failover.healthCheckIntervalSeconds),
      failureThreshold: failover.failureThreshold,
    });
    this.status = new Metric({
      namespace: 'AWS/Route53',
      metricName: 'HealthCheckStatus',
      dimensionsMap: { HealthCheckId: this.healthCheck.healthCheckId },
      statistic: 'Minimum',
      period: Duration.minutes(1),
      label: props.region,
    });
    this.alarm = new Alarm(this, 'Unhealthy', {
      alarmName: `coffer-${props.config.stage}-${props.region}-health-check`,
      alarmDescription: `Route 53 finds ${regionalApiDomain(props.config, props.region)}${HEALTH_PATH} unhealthy: ${
        props.region === props.config.primaryRegion ? 'traffic fails over to the standby' : 'a failover would land on a sick standby'
      }`,
      metric: this.status,
      threshold: 1,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // No data means Route 53 stopped reporting: treat it as unhealthy.
      treatMissingData: TreatMissingData.BREACHING,
    });
  }
}
