import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SKIP_BUNDLING, SYNTH_TIMEOUT_MS, type TempApp, tempApp } from './fixture';

// The two regional stacks as a pair: who owns the table, how the standby finds its replica's
// stream, how the archives replicate, and how each region trusts the other's tokens.

type Resource = { Type: string; Properties?: Record<string, any>; DependsOn?: string[] };
type Resources = Record<string, Resource>;

let fixture: TempApp;
const templates: Record<'primary' | 'standby', { template: Template; resources: Resources; json: string }> = {} as never;

beforeAll(() => {
  fixture = tempApp({ context: SKIP_BUNDLING, nag: false });
  const [primary, standby] = fixture.regionalStacks;
  for (const [role, stack] of [['primary', primary!], ['standby', standby!]] as const) {
    const template = Template.fromStack(stack);
    templates[role] = { template, resources: template.toJSON().Resources as Resources, json: JSON.stringify(template.toJSON()) };
  }
}, SYNTH_TIMEOUT_MS);

afterAll(() => fixture?.dispose());

const ofType = (role: 'primary' | 'standby', type: string) => Object.entries(templates[role].resources).filter(([, r]) => r.Type === type);
const functionId = (role: 'primary' | 'standby', description: string) => {
  const found = ofType(role, 'AWS::Lambda::Function').filter(([, r]) => r.Properties!.Description === description);
  expect(found).toHaveLength(1);
  return found[0]![0];
};
const statementsOfRole = (role: 'primary' | 'standby', roleId: string): any[] =>
  ofType(role, 'AWS::IAM::Policy')
    .filter(([, p]) => p.Properties!.Roles.some((r: any) => r.Ref === roleId))
    .flatMap(([, p]) => p.Properties!.PolicyDocument.Statement);
const statementsOfFunction = (role: 'primary' | 'standby', description: string) =>
  statementsOfRole(role, templates[role].resources[functionId(role, description)]!.Properties!.Role['Fn::GetAtt'][0]);

describe('two regions from one app', () => {
  it('deploys the primary first, then the standby, with no value passed between them', () => {
    const [primary, standby] = fixture.regionalStacks;
    expect([primary!.region, standby!.region]).toEqual(['eu-west-1', 'eu-central-1']);
    expect(standby!.dependencies).toEqual([primary]);
    for (const role of ['primary', 'standby'] as const) {
      expect(templates[role].json, role).not.toContain('Fn::ImportValue');
      expect(templates[role].json, role).not.toContain('{{resolve:ssm');
    }
  });

  it('lets only the primary create the global table; the standby deploys no table of its own', () => {
    expect(ofType('primary', 'AWS::DynamoDB::GlobalTable')).toHaveLength(1);
    expect(ofType('standby', 'AWS::DynamoDB::GlobalTable')).toHaveLength(0);
    expect(ofType('standby', 'AWS::DynamoDB::Table')).toHaveLength(0);
  });

  it('points every function at its own region’s replica: table permissions name the stack’s region', () => {
    const tableArns = (role: 'primary' | 'standby') =>
      JSON.stringify(statementsOfFunction(role, 'Coffer secrets API').filter((s) => JSON.stringify(s.Action).includes('dynamodb:')).map((s) => s.Resource));
    expect(tableArns('standby')).toContain(':dynamodb:eu-central-1:');
    expect(tableArns('standby')).toContain(':table/coffer-dev');
    expect(tableArns('standby')).not.toContain('eu-west-1');
    expect(tableArns('primary')).not.toContain('eu-central-1');
  });
});

describe("the standby's audit shipper", () => {
  it("reads the standby replica's own stream, whose ARN DescribeTable returns in the standby region at deploy time", () => {
    const [describeId, describe] = ofType('standby', 'Custom::AWS').find(([, r]) => JSON.stringify(r.Properties!.Create).includes('describeTable'))!;
    const call = JSON.parse(describe.Properties!.Create as string);
    expect(call).toMatchObject({ service: 'DynamoDB', action: 'describeTable', parameters: { TableName: 'coffer-dev' }, outputPaths: ['Table.LatestStreamArn'] });
    expect(call.region).toBeUndefined(); // the stack's own region
    templates.standby.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionId('standby', 'Coffer audit shipper (table stream to S3)') },
      EventSourceArn: { 'Fn::GetAtt': [describeId, 'Table.LatestStreamArn'] },
    });
  });

  it('lets the deploy-time call only describe the replica', () => {
    const describePolicy = ofType('standby', 'AWS::IAM::Policy').find(([, p]) => JSON.stringify(p.Properties!.PolicyDocument).includes('dynamodb:DescribeTable'))!;
    expect(describePolicy[1].Properties!.PolicyDocument.Statement).toEqual([
      {
        Action: 'dynamodb:DescribeTable',
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':dynamodb:eu-central-1:', { Ref: 'AWS::AccountId' }, ':table/coffer-dev']] },
      },
    ]);
  });
});

describe('audit archive replication', () => {
  const bucketOf = (role: 'primary' | 'standby') => ofType(role, 'AWS::S3::Bucket').find(([, b]) => b.Properties!.ObjectLockEnabled)![1].Properties!;
  const bucketName = (region: string) => ({ 'Fn::Join': ['', ['coffer-dev-audit-', { Ref: 'AWS::AccountId' }, `-${region}`]] });

  it('copies the standby archive into the primary’s, re-encrypted under the primary’s archive key, with RTC', () => {
    const rule = bucketOf('standby').ReplicationConfiguration.Rules[0];
    expect(rule).toMatchObject({
      Status: 'Enabled',
      Filter: { Prefix: 'audit/' },
      DeleteMarkerReplication: { Status: 'Disabled' },
      SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
      Destination: {
        ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } },
        Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } },
      },
    });
    expect(JSON.stringify(rule.Destination.Bucket)).toContain(':s3:::coffer-dev-audit-');
    expect(JSON.stringify(rule.Destination.Bucket)).toContain('-eu-west-1');
    expect(JSON.stringify(rule.Destination.EncryptionConfiguration.ReplicaKmsKeyID)).toContain(':kms:eu-west-1:');
    expect(JSON.stringify(rule.Destination.EncryptionConfiguration.ReplicaKmsKeyID)).toContain(':alias/coffer/audit-archive');
  });

  it('sets the primary archive’s replication from the standby stack, once both archives exist; the primary template leaves it out', () => {
    expect(bucketOf('primary').ReplicationConfiguration).toBeUndefined();
    expect(bucketOf('primary').BucketName).toEqual(bucketName('eu-west-1'));
    expect(bucketOf('standby').BucketName).toEqual(bucketName('eu-central-1'));
    const [, put] = ofType('standby', 'Custom::AWS').find(([, r]) => JSON.stringify(r.Properties!.Create).includes('putBucketReplication'))!;
    const create = JSON.stringify(put.Properties!.Create);
    expect(create).toContain('\\"region\\":\\"eu-west-1\\"');
    expect(create).toContain('coffer-dev-audit-');
    expect(create).toContain('audit-archive-to-eu-central-1');
    expect(create).toContain(':kms:eu-central-1:');
    expect(JSON.stringify(put.Properties!.Delete)).toContain('deleteBucketReplication');
  });

  it('gives the replication roles read-for-replication and replicate actions only, never a delete', () => {
    const replicationRoles = ofType('standby', 'AWS::IAM::Role').filter(([, r]) => JSON.stringify(r.Properties!.AssumeRolePolicyDocument).includes('s3.amazonaws.com'));
    expect(replicationRoles).toHaveLength(2);
    for (const [roleId] of replicationRoles) {
      const actions = statementsOfRole('standby', roleId).flatMap((s) => [s.Action].flat());
      expect(actions.filter((a: string) => /Delete|s3:\*|kms:\*/.test(a)), roleId).toEqual([]);
      const kms = statementsOfRole('standby', roleId).filter((s) => JSON.stringify(s.Action).includes('kms:'));
      for (const statement of kms) {
        expect(Object.keys(statement.Condition.StringEquals)).toEqual(['kms:ViaService']);
        expect(Object.keys(statement.Condition.StringLike)).toEqual(['kms:EncryptionContext:aws:s3:arn']);
      }
    }
  });
});

describe('tokens outlive a failover', () => {
  it.each([
    ['primary', 'eu-central-1'],
    ['standby', 'eu-west-1'],
  ] as const)('lets the %s authorizer and JWKS read the public half of the %s token-signing key, by its alias', (role, other) => {
    const peerKeyReaders = (description: string) =>
      statementsOfFunction(role, description).filter((s) => s.Sid === 'ReadPeerRegionSigningKey');
    for (const description of ['Coffer token authorizer', 'Coffer token issuance and JWKS']) {
      const [statement, ...more] = peerKeyReaders(description);
      expect(more).toEqual([]);
      expect(statement).toMatchObject({ Action: 'kms:GetPublicKey', Condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': ['alias/coffer/token-signing'] } } });
      expect(JSON.stringify(statement.Resource)).toContain(`:kms:${other}:`);
    }
    for (const description of ['Coffer secrets API', 'Coffer deep health check', 'Coffer audit shipper (table stream to S3)']) {
      expect(peerKeyReaders(description), description).toEqual([]);
    }
  });
});
