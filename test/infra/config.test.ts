import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { type CofferConfig, InvalidConfigError, loadConfig, peerRegion, regionalApiDomain } from '../../lib/config';
import { FAILOVER_BUDGET_SECONDS, worstCaseFailover } from '../../lib/failover-time';

const load = (context: Record<string, unknown> = {}): CofferConfig => loadConfig(new App({ context }).node);
const refuses = (context: Record<string, unknown>, message: RegExp) => {
  expect(() => load(context)).toThrow(InvalidConfigError);
  expect(() => load(context)).toThrow(message);
};

const CERT_WEST = 'arn:aws:acm:eu-west-1:123456789012:certificate/0b4e6a8c-1d2f-4a3b-9c8d-7e6f5a4b3c2d';
const CERT_CENTRAL = 'arn:aws:acm:eu-central-1:123456789012:certificate/1c5f7b9d-2e3a-4b4c-8d9e-8f7a6b5c4d3e';

describe('the CDK config', () => {
  it('has offline defaults: two EU regions, a dev name under coffer.example, 10 s × 2 checks and a 15 s TTL', () => {
    const config = load();
    expect(config).toMatchObject({
      stage: 'dev',
      regions: ['eu-west-1', 'eu-central-1'],
      primaryRegion: 'eu-west-1',
      standbyRegion: 'eu-central-1',
      apiDomain: 'api.dev.coffer.example',
      hostedZone: { id: 'Z0COFFEREXAMPLE', name: 'coffer.example' },
      certificateArns: {},
      alarmEmail: 'coffer-alarms@coffer.example',
      failover: { healthCheckIntervalSeconds: 10, failureThreshold: 2, recordTtlSeconds: 15 },
    });
    expect(config.account).toBeUndefined();
  });

  it('reads every key from command-line strings as well as JSON', () => {
    const fromStrings = load({
      stage: 'prod',
      account: '123456789012',
      regions: 'us-east-2,us-west-2',
      hostedZoneId: 'Z04471232S3DSJ2EXAMPL',
      hostedZoneName: 'vault.example.com.',
      domain: 'API.vault.example.com',
      certificateArns: `us-east-2=${CERT_WEST.replace(/eu-west-1/, 'us-east-2')}`,
      alarmEmail: 'sre@example.com',
      healthCheckIntervalSeconds: '30',
      healthCheckFailureThreshold: '3',
      recordTtlSeconds: '60',
    });
    expect(fromStrings).toMatchObject({
      primaryRegion: 'us-east-2',
      standbyRegion: 'us-west-2',
      hostedZone: { id: 'Z04471232S3DSJ2EXAMPL', name: 'vault.example.com' },
      apiDomain: 'api.vault.example.com',
      failover: { healthCheckIntervalSeconds: 30, failureThreshold: 3, recordTtlSeconds: 60 },
    });
    expect(Object.keys(fromStrings.certificateArns)).toEqual(['us-east-2']);
    const fromJson = load({ certificateArns: { 'eu-west-1': CERT_WEST, 'eu-central-1': CERT_CENTRAL }, healthCheckFailureThreshold: 1 });
    expect(fromJson.certificateArns).toEqual({ 'eu-west-1': CERT_WEST, 'eu-central-1': CERT_CENTRAL });
    expect(fromJson.failover.failureThreshold).toBe(1);
  });

  it('names each region on its own below the API name, and knows each region’s peer', () => {
    const config = load();
    expect(regionalApiDomain(config, 'eu-central-1')).toBe('eu-central-1.api.dev.coffer.example');
    expect(peerRegion(config, 'eu-west-1')).toBe('eu-central-1');
    expect(peerRegion(config, 'eu-central-1')).toBe('eu-west-1');
    expect(() => peerRegion(config, 'us-east-1')).toThrow(InvalidConfigError);
  });

  it.each([
    [{ regions: 'eu-west-1' }, /exactly two regions/],
    [{ regions: 'eu-west-1,eu-central-1,us-east-1' }, /exactly two regions/],
    [{ regions: 'eu-west-1,eu-west-1' }, /twice/],
    [{ regions: 'eu-west-1,mars-1' }, /invalid region "mars-1"/],
    [{ stage: 'Prod!' }, /"stage" must match/],
    [{ account: '1234' }, /12-digit/],
    [{ issuer: 'coffer.example' }, /http\(s\) URL/],
    [{ previousSigningKeyArns: 'arn:aws:kms:eu-west-1:123456789012:alias/x' }, /invalid KMS key ARN/],
    [{ hostedZoneId: 'zone-1' }, /hosted zone id/],
    [{ hostedZoneName: 'not a domain' }, /"hostedZoneName" must be a domain name/],
    [{ domain: 'api.other.example' }, /below the hosted zone "coffer.example"/],
    [{ domain: 'coffer.example' }, /not its apex/],
    [{ domain: 'api_1.coffer.example' }, /"domain" must be a domain name/],
    [{ certificateArns: { 'us-east-1': CERT_WEST } }, /names us-east-1, which is not one of/],
    [{ certificateArns: { 'eu-west-1': 'arn:aws:acm:eu-west-1:123456789012:certificate/nope' } }, /invalid ACM certificate ARN for eu-west-1/],
    [{ certificateArns: { 'eu-central-1': CERT_WEST } }, /certificate for eu-central-1 is in eu-west-1/],
    [{ account: '210987654321', certificateArns: { 'eu-west-1': CERT_WEST } }, /belongs to account 123456789012/],
    [{ certificateArns: 'eu-west-1' }, /key=value pairs/],
    [{ certificateArns: ['x'] }, /object of strings/],
    [{ alarmEmail: 'oncall' }, /e-mail address/],
    [{ healthCheckIntervalSeconds: 15 }, /must be 10 or 30/],
    [{ healthCheckIntervalSeconds: '10s' }, /must be an integer/],
    [{ healthCheckFailureThreshold: 0 }, /between 1 and 10/],
    [{ healthCheckFailureThreshold: 11 }, /between 1 and 10/],
    [{ recordTtlSeconds: -1 }, /between 0 and 300/],
    [{ recordTtlSeconds: 3600 }, /between 0 and 300/],
    [{ recordTtlSeconds: 1.5 }, /must be an integer/],
    [{ stage: 'prod' }, /stage "prod" needs explicit context: "account", "hostedZoneId", "hostedZoneName", "alarmEmail"/],
  ])('refuses %j', (context, message) => refuses(context, message));
});

describe('the worst-case failover time', () => {
  it('is interval × threshold + 6 s status propagation + TTL: about 41 s with the defaults, inside DSV’s minute', () => {
    expect(worstCaseFailover(load().failover)).toEqual({ detectionSeconds: 20, propagationSeconds: 6, ttlSeconds: 15, worstCaseSeconds: 41 });
    expect(worstCaseFailover(load().failover).worstCaseSeconds).toBeLessThan(FAILOVER_BUDGET_SECONDS);
  });

  it('misses the minute with AWS’s common 30 s × 3 and a 60 s TTL', () => {
    const common = load({ healthCheckIntervalSeconds: 30, healthCheckFailureThreshold: 3, recordTtlSeconds: 60 }).failover;
    expect(worstCaseFailover(common).worstCaseSeconds).toBe(156);
  });
});
