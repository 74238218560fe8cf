import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../lambdas/adapters/dynamodb/keys';
import { newTenantId, TENANT_ID } from '../../lambdas/core/ids';
import { TENANT_ID_GLOB } from '../../lib/constructs/tenant-access-role';
import { tenantPartitionsPattern } from '../../lib/tenant-partitions';
import { SKIP_BUNDLING, SYNTH_TIMEOUT_MS, type TempApp, tempApp } from './fixture';

// IAM-enforced tenant isolation (token vending): the tenant-access role, its trust, and
// the conditions that bind a session to one tenant's partitions and keys.

type Resources = Record<string, { Type: string; Properties?: Record<string, any> }>;

let fixture: TempApp;
const stacks: Record<string, Resources> = {};

beforeAll(() => {
  fixture = tempApp({ context: SKIP_BUNDLING, nag: false });
  for (const stack of fixture.stacks) stacks[stack.region] = Template.fromStack(stack).toJSON().Resources as Resources;
}, SYNTH_TIMEOUT_MS);

afterAll(() => fixture?.dispose());

const ofType = (region: string, type: string) => Object.entries(stacks[region]!).filter(([, r]) => r.Type === type);
const tenantRole = (region: string) => {
  const found = ofType(region, 'AWS::IAM::Role').filter(([, r]) => String(r.Properties!.Description).startsWith('Coffer tenant-scoped access'));
  expect(found).toHaveLength(1);
  return found[0]!;
};
const statementsOf = (region: string, roleId: string): any[] =>
  ofType(region, 'AWS::IAM::Policy')
    .filter(([, p]) => p.Properties!.Roles.some((r: any) => r.Ref === roleId))
    .flatMap(([, p]) => p.Properties!.PolicyDocument.Statement);
const roleOfFunction = (region: string, description: string) =>
  ofType(region, 'AWS::Lambda::Function').find(([, f]) => f.Properties!.Description === description)![1].Properties!.Role['Fn::GetAtt'][0] as string;

/** IAM StringLike, for checking a pattern against real keys: `*` any run, `?` one character. */
const globMatches = (pattern: string, value: string) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`).test(value);

const REQUEST_FUNCTIONS = ['Coffer secrets API', 'Coffer audit trail query and export', 'Coffer users, clients, groups, policies, issuers and IAM bindings'];

describe.each(['eu-west-1', 'eu-central-1'])('the tenant-access role in %s', (region) => {
  it('may be assumed only by the tenant request functions, only with a TenantId session tag shaped like a tenant id', () => {
    const [, role] = tenantRole(region);
    const [trust, ...more] = role.Properties!.AssumeRolePolicyDocument.Statement;
    expect(more).toEqual([]);
    expect(trust).toMatchObject({
      Effect: 'Allow',
      Action: ['sts:AssumeRole', 'sts:TagSession'],
      Condition: {
        StringLike: { 'aws:RequestTag/TenantId': 'ten_????????????????????' },
        StringNotLike: { 'aws:RequestTag/TenantId': ['*${*}*', '*${?}*'] },
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['TenantId'] },
      },
    });
    const principals = trust.Principal.AWS.map((p: any) => p['Fn::GetAtt'][0]).sort();
    expect(principals).toEqual(REQUEST_FUNCTIONS.map((d) => roleOfFunction(region, d)).sort());
  });

  it('lets each request function assume it, and tells it the ARN', () => {
    const [roleId] = tenantRole(region);
    for (const description of REQUEST_FUNCTIONS) {
      const assume = statementsOf(region, roleOfFunction(region, description)).find((s) => JSON.stringify(s.Action).includes('sts:AssumeRole'));
      expect(assume, description).toMatchObject({ Action: ['sts:AssumeRole', 'sts:TagSession'], Resource: { 'Fn::GetAtt': [roleId, 'Arn'] } });
      const fn = ofType(region, 'AWS::Lambda::Function').find(([, f]) => f.Properties!.Description === description)![1];
      expect(fn.Properties!.Environment.Variables.COFFER_TENANT_ACCESS_ROLE_ARN, description).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    }
  });

  it("allows only item actions, only on this region's replica, only in the session tenant's partitions — with a Null guard", () => {
    const [roleId] = tenantRole(region);
    const dynamo = statementsOf(region, roleId).filter((s) => s.Effect === 'Allow' && JSON.stringify(s.Action).includes('dynamodb:'));
    expect(dynamo).toHaveLength(1);
    expect(dynamo[0]).toMatchObject({
      Action: ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:ConditionCheckItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
      Condition: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['T#${aws:PrincipalTag/TenantId}#*'] },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      },
    });
    expect(JSON.stringify(dynamo[0].Resource)).not.toContain('*');
  });

  it('keeps the tenant audit chain append-only: no update or batch write there', () => {
    const [roleId] = tenantRole(region);
    const deny = statementsOf(region, roleId).find((s) => s.Effect === 'Deny');
    expect(deny).toMatchObject({
      Action: ['dynamodb:BatchWriteItem', 'dynamodb:UpdateItem'],
      Condition: { 'ForAnyValue:StringEquals': { 'dynamodb:LeadingKeys': ['T#${aws:PrincipalTag/TenantId}#AUDIT'] } },
    });
  });

  it("uses KMS only on the tenant's own managed keys, with the tenant as the coffer:tenant encryption context", () => {
    const [roleId] = tenantRole(region);
    const kms = statementsOf(region, roleId).filter((s) => JSON.stringify(s.Action).includes('kms:'));
    expect(kms).toHaveLength(1);
    expect(kms[0]).toMatchObject({
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
      Condition: {
        StringEquals: {
          'kms:EncryptionContext:coffer:tenant': '${aws:PrincipalTag/TenantId}',
          'aws:ResourceTag/coffer:tenant': '${aws:PrincipalTag/TenantId}',
          'aws:ResourceTag/coffer:managed': 'true',
        },
      },
    });
  });
});

describe('every IAM policy of the app', () => {
  it('grants no wildcard action: no dynamodb:*, kms:*, s3:* or *', () => {
    for (const region of ['eu-west-1', 'eu-central-1']) {
      const actions = ofType(region, 'AWS::IAM::Policy').flatMap(([, p]) => p.Properties!.PolicyDocument.Statement.filter((s: any) => s.Effect === 'Allow').flatMap((s: any) => [s.Action].flat()));
      expect(actions.length, region).toBeGreaterThan(0);
      expect(actions.filter((a: string) => a === '*' || a.endsWith(':*')), region).toEqual([]);
    }
    expect(ofType('us-east-1', 'AWS::IAM::Policy')).toEqual([]);
  });
});

describe('the LeadingKeys pattern', () => {
  const tenant = newTenantId();
  const other = newTenantId();
  const pattern = tenantPartitionsPattern(tenant);

  it("matches every partition the key builders make for the tenant (keys.ts is the one source)", () => {
    for (const pk of [keys.tenantMeta(tenant), keys.identity(tenant), keys.secretHeads(tenant), keys.secretVersions(tenant, 'db/password'), keys.auditChain(tenant), keys.idempotency(tenant, 'k1'), keys.clientPk(tenant)]) {
      expect(globMatches(pattern, pk), pk).toBe(true);
    }
  });

  it("matches no other tenant's partitions and no platform partition", () => {
    for (const pk of [keys.tenantMeta(other), keys.auditChain(other), keys.tenantIndexPk, keys.auditChain('platform'), keys.idempotency(null, 'k1'), keys.sourceThrottlePk('203.0.113.7')]) {
      expect(globMatches(pattern, pk), pk).toBe(false);
    }
    // A tenant id is not a prefix of another's partitions: the pattern closes it with '#'.
    expect(globMatches(tenantPartitionsPattern('ten_a'), keys.tenantMeta('ten_ab'))).toBe(false);
  });

  it('accepts only tag values shaped like a tenant id', () => {
    expect(globMatches(TENANT_ID_GLOB, tenant)).toBe(true);
    expect(TENANT_ID.test(tenant)).toBe(true);
    for (const bad of ['ten_short', `${tenant}x`, 'platform', '']) expect(globMatches(TENANT_ID_GLOB, bad), bad).toBe(false);
  });
});
