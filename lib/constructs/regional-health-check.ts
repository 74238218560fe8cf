import { Duration } from 'aws-cdk-lib';
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
  }
}
