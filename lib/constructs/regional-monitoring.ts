import { Duration } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { FilterPattern, MetricFilter } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { DependencyUnavailableError } from '../../lambdas/core/errors';
import { ROUTE53_METRICS_REGION } from '../route53-metrics';
import type { AlarmTopic } from './alarm-topic';
import type { CofferFunction } from './coffer-function';
import type { VaultFunctions } from './vault-functions';

/** Thresholds, in one place: what "page someone" means for one region. */
export const ALARM_THRESHOLDS = {
  /** Share of API requests answered 5xx (API Gateway's 5XXError average), over 3 of 5 minutes. */
  api5xxRate: 0.05,
  /** p99 of API Gateway's Latency, ms, over two 5-minute periods. */
  apiP99LatencyMs: 2000,
  /** Lambda throttles across Coffer's functions in 5 minutes. */
  lambdaThrottles: 1,
  /** Global table replication to the other region, average ms over two 5-minute periods. */
  replicationLatencyMs: 10_000,
  /** Audit shipper failures in 5 minutes (each is retried, but a stuck batch blocks its shard). */
  shipperErrors: 1,
  /** Age of the oldest stream record the shipper has not taken, ms, for 5 minutes straight. */
  shipperIteratorAgeMs: 60_000,
  /** KMS failures logged by any function in 5 minutes (every one is an outage to its caller). */
  kmsErrors: 1,
} as const;

/** The dependency value DependencyUnavailableError logs (Powertools logs an error's own fields). */
const KMS_DEPENDENCY: DependencyUnavailableError['dependency'] = 'kms';
export const KMS_ERRORS_METRIC = { namespace: 'Coffer', metricName: 'KmsErrors' } as const;

export interface RegionalMonitoringProps {
  readonly stage: string;
  readonly region: string;
  readonly peerRegion: string;
  readonly tableName: string;
  readonly api: RestApi;
  readonly functions: VaultFunctions;
  readonly topic: AlarmTopic;
}

/** One region's alarms (to the region's topic) and its dashboard. */
export class RegionalMonitoring extends Construct {
  readonly alarms: readonly Alarm[];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: RegionalMonitoringProps) {
    super(scope, id);
    const { stage, region, peerRegion, api, functions } = props;
    const prefix = `coffer-${stage}-${region}`;
    const fiveMinutes = Duration.minutes(5);
    const all = allFunctions(functions);

    const api5xxRate = api.metricServerError({ statistic: 'Average', period: Duration.minutes(1), label: '5xx share' });
    const apiP99 = api.metricLatency({ statistic: 'p99', period: fiveMinutes, label: 'p99 latency (ms)' });
    const throttles = new MathExpression({
      expression: Object.keys(all).map((_, i) => `t${i}`).join(' + '),
      usingMetrics: Object.fromEntries(Object.values(all).map((fn, i) => [`t${i}`, fn.function.metricThrottles({ period: fiveMinutes })])),
      period: fiveMinutes,
      label: 'Lambda throttles (all functions)',
    });
    const replicationLatency = new Metric({
      namespace: 'AWS/DynamoDB',
      metricName: 'ReplicationLatency',
      // Published in the sending region, per receiving region.
      dimensionsMap: { TableName: props.tableName, ReceivingRegion: peerRegion },
      statistic: 'Average',
      period: fiveMinutes,
      label: `replication to ${peerRegion} (ms)`,
    });
    const shipper = functions.auditShipper.function;
    const shipperErrors = shipper.metricErrors({ period: fiveMinutes, label: 'shipper errors' });
    const shipperIteratorAge = shipper.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1), label: 'shipper iterator age (ms)' });
    const kmsErrors = this.kmsErrorMetric(all).with({ period: fiveMinutes, statistic: 'Sum', label: 'KMS errors' });

    const alarm = (name: string, description: string, props: Omit<ConstructorParameters<typeof Alarm>[2], 'alarmName' | 'alarmDescription'>) =>
      new Alarm(this, name, { alarmName: `${prefix}-${name}`, alarmDescription: description, treatMissingData: TreatMissingData.NOT_BREACHING, ...props });
    const atLeast = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
    this.alarms = [
      alarm('api-5xx-rate', `More than ${ALARM_THRESHOLDS.api5xxRate * 100}% of API requests in ${region} answered 5xx`, {
        metric: api5xxRate, threshold: ALARM_THRESHOLDS.api5xxRate, comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD, evaluationPeriods: 5, datapointsToAlarm: 3,
      }),
      alarm('api-p99-latency', `API p99 latency in ${region} above ${ALARM_THRESHOLDS.apiP99LatencyMs} ms`, {
        metric: apiP99, threshold: ALARM_THRESHOLDS.apiP99LatencyMs, comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD, evaluationPeriods: 2,
      }),
      alarm('lambda-throttles', `Coffer functions in ${region} were throttled (reserved or account concurrency)`, {
        metric: throttles, threshold: ALARM_THRESHOLDS.lambdaThrottles, comparisonOperator: atLeast, evaluationPeriods: 1,
      }),
      alarm('replication-latency', `Global table replication ${region} → ${peerRegion} slower than ${ALARM_THRESHOLDS.replicationLatencyMs} ms: an unplanned failover now loses more writes`, {
        metric: replicationLatency, threshold: ALARM_THRESHOLDS.replicationLatencyMs, comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD, evaluationPeriods: 2,
      }),
      alarm('audit-shipper-errors', `The audit shipper in ${region} failed batches (the stream redelivers them)`, {
        metric: shipperErrors, threshold: ALARM_THRESHOLDS.shipperErrors, comparisonOperator: atLeast, evaluationPeriods: 1,
      }),
      alarm('audit-shipper-iterator-age', `The audit shipper in ${region} is more than ${ALARM_THRESHOLDS.shipperIteratorAgeMs / 1000} s behind the table stream`, {
        metric: shipperIteratorAge, threshold: ALARM_THRESHOLDS.shipperIteratorAgeMs, comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD, evaluationPeriods: 5,
      }),
      alarm('kms-errors', `Coffer functions in ${region} could not use KMS (signing, tenant keys or the archive key)`, {
        metric: kmsErrors, threshold: ALARM_THRESHOLDS.kmsErrors, comparisonOperator: atLeast, evaluationPeriods: 1,
      }),
    ];
    props.topic.notify(...this.alarms);

    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: prefix, defaultInterval: Duration.hours(3) });
    this.dashboard.addWidgets(new AlarmStatusWidget({ title: `Coffer ${stage} ${region}: alarms`, alarms: [...this.alarms], width: 24, height: 4 }));
    this.dashboard.addWidgets(
      new GraphWidget({ title: 'API 5xx share', left: [api5xxRate], width: 8 }),
      new GraphWidget({ title: 'API p99 latency', left: [apiP99], width: 8 }),
      new GraphWidget({ title: 'Lambda throttles', left: [throttles], width: 8 }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({ title: `Replication latency to ${peerRegion}`, left: [replicationLatency], width: 8 }),
      new GraphWidget({ title: 'Audit shipper', left: [shipperErrors], right: [shipperIteratorAge], width: 8 }),
      new GraphWidget({ title: 'KMS errors', left: [kmsErrors], width: 8 }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Route 53 health checks (1 = healthy; both regions, from us-east-1)',
        // The checks live in the DNS stack, deployed after this one: found by search, not by id.
        left: [
          new MathExpression({
            expression: `SEARCH('{AWS/Route53,HealthCheckId} MetricName="HealthCheckStatus"', 'Minimum', 60)`,
            searchRegion: ROUTE53_METRICS_REGION,
            label: 'HealthCheckStatus',
            period: Duration.minutes(1),
          }),
        ],
        leftYAxis: { min: 0, max: 1 },
        width: 24,
      }),
    );
  }

  /** Every function's KMS failures (a DependencyUnavailableError naming kms) as one metric. */
  private kmsErrorMetric(all: Record<string, CofferFunction>): Metric {
    let metric: Metric | undefined;
    for (const [name, fn] of Object.entries(all)) {
      const filter = new MetricFilter(this, `KmsErrors${name}`, {
        logGroup: fn.logGroup,
        filterPattern: FilterPattern.stringValue('$.error.dependency', '=', KMS_DEPENDENCY),
        metricNamespace: KMS_ERRORS_METRIC.namespace,
        metricName: KMS_ERRORS_METRIC.metricName,
        metricValue: '1',
        defaultValue: 0,
      });
      metric ??= filter.metric();
    }
    return metric!;
  }
}

function allFunctions(functions: VaultFunctions): Record<string, CofferFunction> {
  const { authorizer, token, health, tenants, secrets, audit, identity, auditShipper } = functions;
  return { authorizer, token, health, tenants, secrets, audit, identity, auditShipper };
}
