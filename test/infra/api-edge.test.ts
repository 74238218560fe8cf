import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SKIP_BUNDLING, SYNTH_TIMEOUT_MS, type TempApp, tempApp } from './fixture';

// What stands in front of each region's API: its custom domains and certificate, the alias
// record Route 53 health-checks, and the WAF web ACL on the stage.

type Resources = Record<string, { Type: string; Properties?: Record<string, any> }>;

const REGIONS = ['eu-west-1', 'eu-central-1'] as const;
let fixture: TempApp;
const byRegion: Record<string, { template: Template; resources: Resources }> = {};

beforeAll(() => {
  fixture = tempApp({ context: SKIP_BUNDLING, nag: false });
  for (const stack of fixture.regionalStacks) {
    const template = Template.fromStack(stack);
    byRegion[stack.region] = { template, resources: template.toJSON().Resources as Resources };
  }
}, SYNTH_TIMEOUT_MS);

afterAll(() => fixture?.dispose());

const ofType = (region: string, type: string) => Object.entries(byRegion[region]!.resources).filter(([, r]) => r.Type === type);
const only = (region: string, type: string) => {
  const found = ofType(region, type);
  expect(found, type).toHaveLength(1);
  return found[0]!;
};

describe.each(REGIONS)('the API edge in %s', (region) => {
  const stageId = () => only(region, 'AWS::ApiGateway::Stage')[0];

  it('answers on the public name and on its own regional name, both REGIONAL with TLS 1.2 at least, mapped to the stage', () => {
    const domains = ofType(region, 'AWS::ApiGateway::DomainName').map(([, d]) => d.Properties!);
    expect(domains.map((d) => d.DomainName).sort()).toEqual([`${region}.api.dev.coffer.example`, 'api.dev.coffer.example'].sort());
    for (const domain of domains) {
      expect(domain).toMatchObject({ EndpointConfiguration: { Types: ['REGIONAL'] }, SecurityPolicy: 'TLS_1_2' });
    }
    const mappings = ofType(region, 'AWS::ApiGateway::BasePathMapping').map(([, m]) => m.Properties!);
    expect(mappings).toHaveLength(2);
    for (const mapping of mappings) expect(mapping.Stage).toEqual({ Ref: stageId() });
  });

  it('creates a DNS-validated certificate for both names in the configured zone when none is given', () => {
    const [certificateId, certificate] = only(region, 'AWS::CertificateManager::Certificate');
    expect(certificate.Properties).toMatchObject({
      DomainName: 'api.dev.coffer.example',
      SubjectAlternativeNames: [`${region}.api.dev.coffer.example`],
      ValidationMethod: 'DNS',
      DomainValidationOptions: [
        { DomainName: 'api.dev.coffer.example', HostedZoneId: 'Z0COFFEREXAMPLE' },
        { DomainName: `${region}.api.dev.coffer.example`, HostedZoneId: 'Z0COFFEREXAMPLE' },
      ],
    });
    for (const [, domain] of ofType(region, 'AWS::ApiGateway::DomainName')) {
      expect(domain.Properties!.RegionalCertificateArn).toEqual({ Ref: certificateId });
    }
  });

  it('writes only its own regional alias record; the public name is left to the failover records', () => {
    const [, record] = only(region, 'AWS::Route53::RecordSet');
    const regionalDomain = ofType(region, 'AWS::ApiGateway::DomainName').find(([, d]) => d.Properties!.DomainName.startsWith(region))![0];
    expect(record.Properties).toMatchObject({
      Name: `${region}.api.dev.coffer.example.`,
      Type: 'A',
      HostedZoneId: 'Z0COFFEREXAMPLE',
      AliasTarget: {
        DNSName: { 'Fn::GetAtt': [regionalDomain, 'RegionalDomainName'] },
        HostedZoneId: { 'Fn::GetAtt': [regionalDomain, 'RegionalHostedZoneId'] },
      },
    });
  });

  it('guards the stage with a REGIONAL web ACL: per-IP rate limits (tighter on /v1/token) and AWS managed rules', () => {
    const [aclId, acl] = only(region, 'AWS::WAFv2::WebACL');
    expect(acl.Properties).toMatchObject({ Scope: 'REGIONAL', DefaultAction: { Allow: {} } });
    const rules = acl.Properties!.Rules as any[];
    expect(rules.map((r) => r.Name)).toEqual(['token-rate-per-ip', 'rate-per-ip', 'aws-common', 'aws-known-bad-inputs']);
    expect(rules[0]).toMatchObject({
      Action: { Block: { CustomResponse: { ResponseCode: 429 } } },
      Statement: {
        RateBasedStatement: {
          Limit: 100,
          AggregateKeyType: 'IP',
          EvaluationWindowSec: 300,
          ScopeDownStatement: { ByteMatchStatement: { SearchString: '/v1/token', PositionalConstraint: 'ENDS_WITH' } },
        },
      },
    });
    expect(rules[1].Statement.RateBasedStatement).toEqual({ Limit: 3000, AggregateKeyType: 'IP', EvaluationWindowSec: 300 });
    expect(rules[2].Statement.ManagedRuleGroupStatement).toMatchObject({ VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' });
    expect(rules[3].Statement.ManagedRuleGroupStatement).toMatchObject({ VendorName: 'AWS', Name: 'AWSManagedRulesKnownBadInputsRuleSet' });

    const [, association] = only(region, 'AWS::WAFv2::WebACLAssociation');
    expect(association.Properties!.WebACLArn).toEqual({ 'Fn::GetAtt': [aclId, 'Arn'] });
    expect(JSON.stringify(association.Properties!.ResourceArn)).toContain(`:apigateway:${region}::/restapis/`);
    expect(JSON.stringify(association.Properties!.ResourceArn)).toContain(`{"Ref":"${stageId()}"}`);
  });

  it('keeps the authorizer cache TTL stated: 300 s', () => {
    expect(only(region, 'AWS::ApiGateway::Authorizer')[1].Properties!.AuthorizerResultTtlInSeconds).toBe(300);
  });
});

describe('given certificates', () => {
  it('uses each region’s configured certificate and creates none', () => {
    const certificateArns = {
      'eu-west-1': 'arn:aws:acm:eu-west-1:123456789012:certificate/0b4e6a8c-1d2f-4a3b-9c8d-7e6f5a4b3c2d',
      'eu-central-1': 'arn:aws:acm:eu-central-1:123456789012:certificate/1c5f7b9d-2e3a-4b4c-8d9e-8f7a6b5c4d3e',
    };
    const given = tempApp({ context: { ...SKIP_BUNDLING, certificateArns }, nag: false });
    try {
      for (const stack of given.regionalStacks) {
        const template = Template.fromStack(stack);
        template.resourceCountIs('AWS::CertificateManager::Certificate', 0);
        template.allResourcesProperties('AWS::ApiGateway::DomainName', { RegionalCertificateArn: certificateArns[stack.region as keyof typeof certificateArns] });
      }
    } finally {
      given.dispose();
    }
  }, SYNTH_TIMEOUT_MS);
});
