import { Annotations, CfnOutput, Duration, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import { AlarmStatusWidget, Dashboard, GraphWidget } from 'aws-cdk-lib/aws-cloudwatch';
import { CnameRecord, Failover, HostedZone } from 'aws-cdk-lib/aws-route53';
import type { Construct } from 'constructs';
import { type CofferConfig, regionalApiDomain } from '../config';
import { AlarmTopic } from '../constructs/alarm-topic';
import { RegionalHealthCheck } from '../constructs/regional-health-check';
import { FAILOVER_BUDGET_SECONDS, worstCaseFailover } from '../failover-time';
import { appTags } from '../naming';
import { ROUTE53_METRICS_REGION } from '../route53-metrics';

export interface DnsStackProps extends StackProps {
  readonly config: CofferConfig;
}

/**
 * Route 53 failover for the API's public name, in a stack of its own, deployed last:
 * a health check per region and the PRIMARY/SECONDARY records. Health checks and records
 * are global, but their CloudWatch metrics exist only in us-east-1, so the stack (and the
 * health-check alarms) live there. It references nothing in the regional stacks: it
 * probes and points at the per-region names those stacks create.
 *
 * CNAME records rather than alias: an alias answer carries the target's TTL (not ours to
 * set), while a CNAME's TTL is part of the failover arithmetic we promise (lib/failover-time.ts).
 */
export class DnsStack extends Stack {
  readonly healthChecks: Readonly<Record<string, RegionalHealthCheck>>;
  readonly alarmTopic: AlarmTopic;

  constructor(scope: Construct, id: string, props: DnsStackProps) {
    const { config } = props;
    super(scope, id, {
      ...props,
      env: { account: config.account, region: ROUTE53_METRICS_REGION },
      description: `Coffer API failover (${config.stage}): Route 53 health checks and failover records for ${config.apiDomain}`,
      terminationProtection: props.terminationProtection ?? config.stage === 'prod',
    });
    const zone = HostedZone.fromHostedZoneAttributes(this, 'Zone', { hostedZoneId: config.hostedZone.id, zoneName: config.hostedZone.name });

    const healthChecks: Record<string, RegionalHealthCheck> = {};
    const roles = [
      [config.primaryRegion, Failover.PRIMARY],
      [config.standbyRegion, Failover.SECONDARY],
    ] as const;
    for (const [region, failover] of roles) {
      const check = new RegionalHealthCheck(this, `Health-${region}`, { config, region });
      healthChecks[region] = check;
      new CnameRecord(this, `${failover === Failover.PRIMARY ? 'Primary' : 'Secondary'}Record`, {
        zone,
        recordName: config.apiDomain,
        domainName: regionalApiDomain(config, region),
        ttl: Duration.seconds(config.failover.recordTtlSeconds),
        failover,
        setIdentifier: `coffer-${config.stage}-${region}`,
        // The secondary is checked too: its alarm warns before a failover would land on a
        // sick standby (with both unhealthy, Route 53 answers the primary).
        healthCheck: check.healthCheck,
        comment: `Coffer API ${failover.toLowerCase()}: ${region}`,
      });
      new CfnOutput(this, `HealthCheckId${region.replaceAll('-', '')}`, { value: check.healthCheck.healthCheckId, description: `Route 53 health check of ${region}` });
    }
    this.healthChecks = healthChecks;

    this.alarmTopic = new AlarmTopic(this, 'Alarms', { email: config.alarmEmail, topicName: `coffer-${config.stage}-failover-alarms` });
    const checks = Object.values(healthChecks);
    this.alarmTopic.notify(...checks.map((check) => check.alarm));
    const dashboard = new Dashboard(this, 'Dashboard', { dashboardName: `coffer-${config.stage}-failover`, defaultInterval: Duration.hours(3) });
    dashboard.addWidgets(
      new AlarmStatusWidget({ title: `Coffer ${config.stage}: regional health checks`, alarms: checks.map((check) => check.alarm), width: 24, height: 3 }),
      new GraphWidget({ title: 'HealthCheckStatus (1 = healthy)', left: checks.map((check) => check.status), leftYAxis: { min: 0, max: 1 }, width: 24 }),
    );
    // The us-east-1 resource schema has no Tags on dashboards yet (cfn-lint E3002 there; the
    // EU regions have them): leave this one untagged rather than fail the deploy.
    for (const key of Object.keys(appTags(config.stage))) Tags.of(dashboard).remove(key);

    const time = worstCaseFailover(config.failover);
    if (time.worstCaseSeconds >= FAILOVER_BUDGET_SECONDS) {
      Annotations.of(this).addWarningV2(
        'coffer:failover-budget',
        `Worst-case failover is ${time.worstCaseSeconds} s (${time.detectionSeconds} detection + ${time.propagationSeconds} propagation + ${time.ttlSeconds} TTL), over DSV's ${FAILOVER_BUDGET_SECONDS} s`,
      );
    }
    new CfnOutput(this, 'ApiUrl', { value: `https://${config.apiDomain}/`, description: 'The API, on whichever region Route 53 picks' });
    new CfnOutput(this, 'WorstCaseFailoverSeconds', { value: String(time.worstCaseSeconds), description: 'interval x threshold + status propagation + TTL' });
  }
}
