import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SKIP_BUNDLING, SYNTH_TIMEOUT_MS, type TempApp, tempApp } from './fixture';

// Route 53 failover for the public name: one HTTPS health check per region on its deep
// /health, and PRIMARY/SECONDARY CNAME records with the configured TTL.

type Resources = Record<string, { Type: string; Properties?: Record<string, any> }>;

let fixture: TempApp;
let template: Template;
let resources: Resources;

beforeAll(() => {
  fixture = tempApp({ context: SKIP_BUNDLING, nag: false });
  template = Template.fromStack(fixture.dns);
  resources = template.toJSON().Resources as Resources;
}, SYNTH_TIMEOUT_MS);

afterAll(() => fixture?.dispose());

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const healthCheckOf = (region: string) => {
  const found = ofType('AWS::Route53::HealthCheck').filter(([, r]) => r.Properties!.HealthCheckConfig.FullyQualifiedDomainName === `${region}.api.dev.coffer.example`);
  expect(found, region).toHaveLength(1);
  return found[0]!;
};

describe('the DNS failover stack', () => {
  it('lives in us-east-1, where Route 53 publishes its metrics, and deploys after both regions', () => {
    expect(fixture.dns.region).toBe('us-east-1');
    expect(fixture.dns.dependencies.map((s) => s.stackName).sort()).toEqual(['Coffer-dev-eu-central-1', 'Coffer-dev-eu-west-1']);
    expect(JSON.stringify(template.toJSON())).not.toContain('Fn::ImportValue');
  });

  it.each(['eu-west-1', 'eu-central-1'])("checks %s's deep /health over HTTPS on its own name, every 10 s, unhealthy after 2 failures", (region) => {
    const [, check] = healthCheckOf(region);
    expect(check.Properties!.HealthCheckConfig).toEqual({
      Type: 'HTTPS',
      FullyQualifiedDomainName: `${region}.api.dev.coffer.example`,
      Port: 443,
      ResourcePath: '/health',
      EnableSNI: true,
      RequestInterval: 10,
      FailureThreshold: 2,
      Inverted: false,
      MeasureLatency: false,
    });
  });

  it('answers the public name with a PRIMARY CNAME to the primary and a SECONDARY to the standby, each health-checked, TTL 15 s', () => {
    const records = ofType('AWS::Route53::RecordSet').map(([, r]) => r.Properties!);
    expect(records).toHaveLength(2);
    const [primaryCheck] = healthCheckOf('eu-west-1');
    const [standbyCheck] = healthCheckOf('eu-central-1');
    expect(records.find((r) => r.Failover === 'PRIMARY')).toMatchObject({
      Name: 'api.dev.coffer.example.',
      Type: 'CNAME',
      TTL: '15',
      HostedZoneId: 'Z0COFFEREXAMPLE',
      ResourceRecords: ['eu-west-1.api.dev.coffer.example'],
      HealthCheckId: { Ref: primaryCheck },
      SetIdentifier: 'coffer-dev-eu-west-1',
    });
    expect(records.find((r) => r.Failover === 'SECONDARY')).toMatchObject({
      Name: 'api.dev.coffer.example.',
      Type: 'CNAME',
      TTL: '15',
      ResourceRecords: ['eu-central-1.api.dev.coffer.example'],
      HealthCheckId: { Ref: standbyCheck },
      SetIdentifier: 'coffer-dev-eu-central-1',
    });
  });

  it('states the worst-case failover time: 41 s with the defaults, and warns nothing', () => {
    template.hasOutput('WorstCaseFailoverSeconds', { Value: '41' });
    Annotations.fromStack(fixture.dns).hasNoWarning('*', Match.anyValue());
  });
});

describe('with slower settings', () => {
  it('follows the configured interval, threshold and TTL, and warns when the minute is missed', () => {
    const slow = tempApp({ context: { ...SKIP_BUNDLING, healthCheckIntervalSeconds: 30, healthCheckFailureThreshold: 3, recordTtlSeconds: 60 }, nag: false });
    try {
      const dns = Template.fromStack(slow.dns);
      dns.allResourcesProperties('AWS::Route53::HealthCheck', { HealthCheckConfig: Match.objectLike({ RequestInterval: 30, FailureThreshold: 3 }) });
      dns.allResourcesProperties('AWS::Route53::RecordSet', { TTL: '60' });
      dns.hasOutput('WorstCaseFailoverSeconds', { Value: '156' });
      Annotations.fromStack(slow.dns).hasWarning('*', Match.stringLikeRegexp("Worst-case failover is 156 s .* over DSV's 60 s"));
    } finally {
      slow.dispose();
    }
  }, SYNTH_TIMEOUT_MS);
});
