import { LogFormatter, LogItem } from '@aws-lambda-powertools/logger';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DependencyUnavailableError } from '../../lambdas/core/errors';
import { SKIP_BUNDLING, SYNTH_TIMEOUT_MS, type TempApp, tempApp } from './fixture';

// Alarms, their topics and the dashboards: per region, and the health-check alarms in
// us-east-1 where Route 53's metrics are.

type Resources = Record<string, { Type: string; Properties?: Record<string, any> }>;

let fixture: TempApp;
const stacks: Record<string, { template: Template; resources: Resources }> = {};

beforeAll(() => {
  fixture = tempApp({ context: SKIP_BUNDLING, nag: false });
  for (const stack of fixture.stacks) {
    const template = Template.fromStack(stack);
    stacks[stack.region] = { template, resources: template.toJSON().Resources as Resources };
  }
}, SYNTH_TIMEOUT_MS);

afterAll(() => fixture?.dispose());

const ofType = (region: string, type: string) => Object.entries(stacks[region]!.resources).filter(([, r]) => r.Type === type);
const alarmsOf = (region: string) =>
  new Map<string, Record<string, any>>(ofType(region, 'AWS::CloudWatch::Alarm').map(([id, a]) => [a.Properties!.AlarmName as string, { id, ...a.Properties! }]));
/** An alarm's single metric, written either inline or (with a label) as one MetricStat. */
const metricOf = (alarm: Record<string, any> | undefined) => {
  if (alarm?.MetricName) return { Namespace: alarm.Namespace, MetricName: alarm.MetricName, Dimensions: alarm.Dimensions, Stat: alarm.ExtendedStatistic ?? alarm.Statistic };
  const [stat, ...more] = (alarm?.Metrics ?? []) as any[];
  expect(more).toEqual([]);
  return { ...stat.MetricStat.Metric, Stat: stat.MetricStat.Stat };
};
const topicOf = (region: string) => {
  const topics = ofType(region, 'AWS::SNS::Topic');
  expect(topics).toHaveLength(1);
  return topics[0]!;
};

/** Checks every topic the same way: KMS-encrypted, TLS only, the configured mailbox subscribed. */
function expectEncryptedTlsOnlyTopicMailing(region: string) {
  const [topicId, topic] = topicOf(region);
  const keyId = topic.Properties!.KmsMasterKeyId['Fn::GetAtt'][0] as string;
  expect(stacks[region]!.resources[keyId]).toMatchObject({ Type: 'AWS::KMS::Key', Properties: { EnableKeyRotation: true } });
  const keyPolicy = JSON.stringify(stacks[region]!.resources[keyId]!.Properties!.KeyPolicy);
  expect(keyPolicy).toContain('cloudwatch.amazonaws.com');
  stacks[region]!.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
    Topics: [{ Ref: topicId }],
    PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
  });
  stacks[region]!.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'coffer-alarms@coffer.example', TopicArn: { Ref: topicId } });
  return topicId;
}

describe.each([
  ['eu-west-1', 'eu-central-1'],
  ['eu-central-1', 'eu-west-1'],
])('monitoring in %s', (region, peer) => {
  const prefix = `coffer-dev-${region}-`;
  const NAMES = ['api-5xx-rate', 'api-p99-latency', 'lambda-throttles', 'replication-latency', 'audit-shipper-errors', 'audit-shipper-iterator-age', 'kms-errors'];

  it('has the seven alarms, each to the region’s topic on ALARM and on recovery', () => {
    const alarms = alarmsOf(region);
    expect([...alarms.keys()].sort()).toEqual(NAMES.map((name) => `${prefix}${name}`).sort());
    const topicId = expectEncryptedTlsOnlyTopicMailing(region);
    for (const [name, alarm] of alarms) {
      expect(alarm.AlarmActions, name).toEqual([{ Ref: topicId }]);
      expect(alarm.OKActions, name).toEqual([{ Ref: topicId }]);
      expect(alarm.AlarmDescription, name).toBeTruthy();
    }
  });

  it('watches the API’s 5xx share and p99 latency, and the throttles of all eight functions', () => {
    const alarms = alarmsOf(region);
    expect(metricOf(alarms.get(`${prefix}api-5xx-rate`))).toMatchObject({ Namespace: 'AWS/ApiGateway', MetricName: '5XXError', Stat: 'Average' });
    expect(alarms.get(`${prefix}api-5xx-rate`)!.Threshold).toBe(0.05);
    expect(metricOf(alarms.get(`${prefix}api-p99-latency`))).toMatchObject({ Namespace: 'AWS/ApiGateway', MetricName: 'Latency', Stat: 'p99' });
    expect(alarms.get(`${prefix}api-p99-latency`)!.Threshold).toBe(2000);
    const throttles = alarms.get(`${prefix}lambda-throttles`)!.Metrics as any[];
    expect(throttles.filter((m) => m.MetricStat?.Metric.MetricName === 'Throttles')).toHaveLength(8);
  });

  it(`watches global table replication from ${region} to ${peer}`, () => {
    expect(metricOf(alarmsOf(region).get(`${prefix}replication-latency`))).toMatchObject({
      Namespace: 'AWS/DynamoDB',
      MetricName: 'ReplicationLatency',
      Dimensions: expect.arrayContaining([{ Name: 'TableName', Value: 'coffer-dev' }, { Name: 'ReceivingRegion', Value: peer }]),
    });
  });

  it('watches the audit shipper’s errors and iterator age', () => {
    const shipper = ofType(region, 'AWS::Lambda::Function').find(([, f]) => f.Properties!.Description === 'Coffer audit shipper (table stream to S3)')![0];
    for (const [name, metric] of [['audit-shipper-errors', 'Errors'], ['audit-shipper-iterator-age', 'IteratorAge']]) {
      expect(metricOf(alarmsOf(region).get(`${prefix}${name}`))).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: metric, Dimensions: [{ Name: 'FunctionName', Value: { Ref: shipper } }] });
    }
  });

  it('counts KMS failures in every function’s log group', () => {
    const filters = ofType(region, 'AWS::Logs::MetricFilter').map(([, f]) => f.Properties!);
    expect(filters).toHaveLength(8);
    const functionLogGroups = ofType(region, 'AWS::Lambda::Function')
      .filter(([, f]) => f.Properties!.Description?.startsWith('Coffer '))
      .map(([, f]) => f.Properties!.LoggingConfig.LogGroup.Ref);
    expect(filters.map((f) => f.LogGroupName.Ref).sort()).toEqual(functionLogGroups.sort());
    for (const filter of filters) {
      expect(filter).toMatchObject({ FilterPattern: '{ $.error.dependency = "kms" }', MetricTransformations: [{ MetricNamespace: 'Coffer', MetricName: 'KmsErrors', MetricValue: '1' }] });
    }
    expect(metricOf(alarmsOf(region).get(`${prefix}kms-errors`))).toMatchObject({ Namespace: 'Coffer', MetricName: 'KmsErrors', Stat: 'Sum' });
  });

  it('has a dashboard with every alarm’s metric and the Route 53 health checks searched in us-east-1', () => {
    const dashboards = ofType(region, 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const [, dashboard] = dashboards[0]!;
    expect(dashboard!.Properties!.DashboardName).toBe(`coffer-dev-${region}`);
    const body = JSON.stringify(dashboard!.Properties!.DashboardBody);
    for (const metric of ['5XXError', 'Latency', 'Throttles', 'ReplicationLatency', 'IteratorAge', 'KmsErrors']) expect(body, metric).toContain(metric);
    expect(body).toContain('HealthCheckStatus');
    expect(body).toContain('us-east-1');
  });
});

describe('health-check alarms in us-east-1', () => {
  it('alarm when Route 53 finds a region unhealthy (or stops reporting), to the failover topic', () => {
    const topicId = expectEncryptedTlsOnlyTopicMailing('us-east-1');
    const alarms = alarmsOf('us-east-1');
    expect([...alarms.keys()].sort()).toEqual(['coffer-dev-eu-central-1-health-check', 'coffer-dev-eu-west-1-health-check']);
    for (const [name, alarm] of alarms) {
      const metric = metricOf(alarm);
      expect(metric, name).toMatchObject({ Namespace: 'AWS/Route53', MetricName: 'HealthCheckStatus', Stat: 'Minimum' });
      expect(alarm, name).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
        AlarmActions: [{ Ref: topicId }],
      });
      const [{ Value }] = metric.Dimensions;
      expect(stacks['us-east-1']!.resources[Value.Ref]!.Type).toBe('AWS::Route53::HealthCheck');
    }
  });
});

describe('the KMS error metric filter', () => {
  it('matches what the functions log: Powertools writes a DependencyUnavailableError with its dependency field', () => {
    class Formatter extends LogFormatter {
      formatAttributes(): LogItem {
        return new LogItem({ attributes: {} });
      }
    }
    const logged = new Formatter().formatError(new DependencyUnavailableError('kms', { cause: new Error('KMS throttled') }));
    expect(logged).toMatchObject({ name: 'DependencyUnavailableError', dependency: 'kms' });
  });
});
