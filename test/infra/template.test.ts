import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWN_TABLE_GRANTS } from '../../lib/own-role-grants';
import { gatewayResources, routeMethods } from '../../lambdas/route-manifest';
import { SKIP_BUNDLING, SYNTH_TIMEOUT_MS, type TempApp, tempApp } from './fixture';

type Resources = Record<string, { Type: string; Properties?: Record<string, any> }>;

let fixture: TempApp;
let template: Template;
let resources: Resources;

beforeAll(() => {
  fixture = tempApp({ context: SKIP_BUNDLING, nag: false });
  const [stack] = fixture.regionalStacks;
  template = Template.fromStack(stack!);
  resources = template.toJSON().Resources as Resources;
}, SYNTH_TIMEOUT_MS);

afterAll(() => fixture?.dispose());

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const logicalIdOf = (type: string, match: (props: Record<string, any>) => boolean): string => {
  const found = ofType(type).filter(([, r]) => match(r.Properties ?? {}));
  expect(found, `exactly one ${type} matching`).toHaveLength(1);
  return found[0]![0];
};
const functionId = (description: string) =>
  logicalIdOf('AWS::Lambda::Function', (p) => p.Description === description);

describe('data', () => {
  it('keeps every item in one on-demand table keyed pk/sk, streaming both images', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: 'coffer-dev',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ]),
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  it('protects every replica, in both regions, with point-in-time recovery and deletion protection; retains the table', () => {
    const [, table] = ofType('AWS::DynamoDB::GlobalTable')[0]!;
    expect((table as { DeletionPolicy?: string }).DeletionPolicy).toBe('Retain');
    const replicas = table.Properties!.Replicas as { Region: string }[];
    expect(replicas.map((r) => r.Region).sort()).toEqual(['eu-central-1', 'eu-west-1']);
    for (const replica of replicas) {
      expect(replica, replica.Region).toMatchObject({
        DeletionProtectionEnabled: true,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      });
    }
  });
});

describe('token signing key', () => {
  it('is an ECC P-256 signing key aliased alias/coffer/token-signing', () => {
    const keyId = logicalIdOf('AWS::KMS::Key', (p) => p.Description === 'Coffer access-token signing key (ES256)');
    expect(resources[keyId]!.Properties).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    template.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: 'alias/coffer/token-signing',
      TargetKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
  });
});

describe('audit bucket', () => {
  const auditBucketId = () => logicalIdOf('AWS::S3::Bucket', (p) => p.ObjectLockEnabled === true);

  it('locks every object in COMPLIANCE mode for 365 days on a versioned bucket, encrypted under its own KMS key', () => {
    const keyId = logicalIdOf('AWS::KMS::Key', (p) => p.Description === 'Coffer audit archive encryption (SSE-KMS)');
    expect(resources[keyId]!.Properties).toMatchObject({ EnableKeyRotation: true });
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/coffer/audit-archive', TargetKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    expect(resources[auditBucketId()]!.Properties).toMatchObject({
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 365 } },
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] } } },
        ],
      },
    });
  });

  it('has a name the other region can compute, and moves objects to Glacier Instant Retrieval without expiring any version', () => {
    const props = resources[auditBucketId()]!.Properties!;
    expect(props.BucketName).toEqual({ 'Fn::Join': ['', ['coffer-dev-audit-', { Ref: 'AWS::AccountId' }, '-eu-west-1']] });
    const [rule] = props.LifecycleConfiguration.Rules;
    expect(rule).toMatchObject({
      Status: 'Enabled',
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 90 }],
      NoncurrentVersionTransitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 90 }],
    });
    expect(rule.ExpirationInDays).toBeUndefined();
    expect(rule.NoncurrentVersionExpiration).toBeUndefined();
  });

  it('logs server access to a separate bucket', () => {
    const logging = resources[auditBucketId()]!.Properties!.LoggingConfiguration;
    expect(logging.DestinationBucketName.Ref).toBeDefined();
    expect(logging.DestinationBucketName.Ref).not.toBe(auditBucketId());
    expect(resources[logging.DestinationBucketName.Ref]!.Type).toBe('AWS::S3::Bucket');
  });

  it('refuses plain-HTTP access', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: auditBucketId() },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });
});

const descriptions = {
  authorizer: 'Coffer token authorizer',
  token: 'Coffer token issuance and JWKS',
  health: 'Coffer deep health check',
  tenants: 'Coffer tenant administration',
  secrets: 'Coffer secrets API',
  audit: 'Coffer audit trail query and export',
  identity: 'Coffer users, clients, groups, policies, issuers and IAM bindings',
  auditShipper: 'Coffer audit shipper (table stream to S3)',
} as const;

describe('functions', () => {

  it('deploys exactly the eight functions', () => {
    template.resourceCountIs('AWS::Lambda::Function', 8);
    for (const description of Object.values(descriptions)) functionId(description);
  });

  it('runs every function on nodejs24.x, arm64, traced, 10 s (the shipper 60 s), with its own log group', () => {
    for (const [, fn] of ofType('AWS::Lambda::Function')) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Timeout: fn.Properties!.Description === descriptions.auditShipper ? 60 : 10,
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
      });
      const logGroup = fn.Properties!.LoggingConfig.LogGroup.Ref as string;
      expect(resources[logGroup]).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 90 } });
    }
  });

  it('gives the authorizer 256 MB and the others 512 MB', () => {
    for (const [name, description] of Object.entries(descriptions)) {
      expect(resources[functionId(description)]!.Properties!.MemorySize, name).toBe(name === 'authorizer' ? 256 : 512);
    }
  });

  it('configures every function with the same Coffer environment; only the shipper knows the audit key, only tenant request functions the tenant-access role', () => {
    const tableId = logicalIdOf('AWS::DynamoDB::GlobalTable', () => true);
    const keyId = logicalIdOf('AWS::KMS::Key', (p) => p.Description === 'Coffer access-token signing key (ES256)');
    const auditKeyId = logicalIdOf('AWS::KMS::Key', (p) => p.Description === 'Coffer audit batch signing key');
    const bucketId = logicalIdOf('AWS::S3::Bucket', (p) => p.ObjectLockEnabled === true);
    const tenantRoleId = logicalIdOf('AWS::IAM::Role', (p) => String(p.Description).startsWith('Coffer tenant-scoped access'));
    const tenantRequests: string[] = [descriptions.secrets, descriptions.audit, descriptions.identity];
    for (const [, fn] of ofType('AWS::Lambda::Function')) {
      const shipper = fn.Properties!.Description === descriptions.auditShipper;
      expect(fn.Properties!.Environment.Variables).toEqual({
        ...(shipper ? { COFFER_AUDIT_SIGNING_KEY_ID: { 'Fn::GetAtt': [auditKeyId, 'Arn'] } } : {}),
        ...(tenantRequests.includes(fn.Properties!.Description) ? { COFFER_TENANT_ACCESS_ROLE_ARN: { 'Fn::GetAtt': [tenantRoleId, 'Arn'] } } : {}),
        COFFER_TABLE_NAME: { Ref: tableId },
        COFFER_REGIONS: 'eu-west-1,eu-central-1',
        COFFER_SIGNING_KEY_ID: { 'Fn::GetAtt': [keyId, 'Arn'] },
        COFFER_PEER_SIGNING_KEY_IDS: {
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':kms:eu-central-1:', { Ref: 'AWS::AccountId' }, ':alias/coffer/token-signing']],
        },
        COFFER_ISSUER: 'https://coffer.dev.example',
        COFFER_AUDIENCE: 'coffer',
        COFFER_AUDIT_BUCKET: { Ref: bucketId },
        POWERTOOLS_SERVICE_NAME: 'coffer',
        NODE_OPTIONS: '--enable-source-maps',
      });
    }
  });
});

describe('least privilege', () => {
  /** All IAM statements that apply to a function's role, across its policies. */
  const statementsOf = (description: string): any[] => {
    const roleId = resources[functionId(description)]!.Properties!.Role['Fn::GetAtt'][0] as string;
    expect(resources[roleId]!.Properties!.ManagedPolicyArns, 'no AWS-managed policies').toBeUndefined();
    return ofType('AWS::IAM::Policy')
      .filter(([, p]) => p.Properties!.Roles.some((r: any) => r.Ref === roleId))
      .flatMap(([, p]) => p.Properties!.PolicyDocument.Statement);
  };
  const actionsOf = (description: string): string[] =>
    statementsOf(description).flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

  it('lets only the token function sign; the authorizer reads the public key only', () => {
    expect(actionsOf('Coffer token issuance and JWKS')).toEqual(expect.arrayContaining(['kms:Sign', 'kms:GetPublicKey']));
    const authorizer = actionsOf('Coffer token authorizer');
    expect([...new Set(authorizer.filter((a) => a.startsWith('kms:')))]).toEqual(['kms:GetPublicKey']);
    expect(authorizer.some((a) => a.startsWith('s3:'))).toBe(false);
    for (const other of ['Coffer deep health check', 'Coffer tenant administration', 'Coffer secrets API', 'Coffer audit trail query and export']) {
      expect(actionsOf(other), other).not.toContain('kms:Sign');
    }
  });

  it('lets the authorizer record refused tokens in the platform audit partition, and otherwise only read identity records', () => {
    const dynamo = statementsOf('Coffer token authorizer').filter((s) => JSON.stringify(s.Action).includes('dynamodb:'));
    expect(dynamo).toHaveLength(2);
    expect(dynamo[0]).toMatchObject({
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
      Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['PLATFORM#AUDIT'] } },
    });
    // The revocation check: the record that minted a token, its session and groups.
    expect(dynamo[1]).toMatchObject({
      Action: ['dynamodb:BatchGetItem', 'dynamodb:GetItem'],
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['T#*#IDENTITY', 'T#*#META', 'PLATFORM', 'PLATFORM#IDENTITY'] } },
    });
  });

  it('lets only the token function unwrap tenant data keys (TOTP seeds at login), and not wrap new ones', () => {
    const kms = statementsOf(descriptions.token).filter((s) => JSON.stringify(s.Action).includes('kms:Decrypt'));
    expect(kms).toHaveLength(1);
    expect(kms[0].Action).toBe('kms:Decrypt');
    expect(kms[0].Condition).toMatchObject({ 'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': ['coffer:tenant'] } });
  });

  // Token vending: what a tenant's request reaches, it reaches through the tenant-access role.
  const TENANT_REQUEST_FUNCTIONS = ['Coffer secrets API', 'Coffer audit trail query and export', 'Coffer users, clients, groups, policies, issuers and IAM bindings'];

  it("gives the functions serving tenants' requests no tenant key of their own role", () => {
    for (const description of TENANT_REQUEST_FUNCTIONS) {
      const tenantKeyUse = actionsOf(description).filter((a) => ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:ReEncrypt*'].includes(a));
      expect(tenantKeyUse, description).toEqual([]);
    }
  });

  it("gives the functions serving tenants' requests no tenant partition of their own role: platform partitions at most", () => {
    const tableId = logicalIdOf('AWS::DynamoDB::GlobalTable', () => true);
    for (const description of TENANT_REQUEST_FUNCTIONS) {
      const dynamo = statementsOf(description).filter((s) => JSON.stringify(s.Action).includes('dynamodb:'));
      expect(dynamo.length, description).toBeGreaterThan(0);
      for (const statement of dynamo) {
        expect(statement.Resource, description).toEqual({ 'Fn::GetAtt': [tableId, 'Arn'] });
        const patterns: string[] = Object.values(statement.Condition).flatMap((c: any) => [c['dynamodb:LeadingKeys']].flat()).filter((p: unknown) => typeof p === 'string' && p !== 'false');
        expect(patterns.length, description).toBeGreaterThan(0);
        for (const pattern of patterns) expect(pattern, description).toMatch(/^PLATFORM/);
      }
    }
    // Exactly the grants of lib/own-role-grants.ts, each with its Null guard.
    const byName = { 'Coffer secrets API': OWN_TABLE_GRANTS.secrets, 'Coffer audit trail query and export': OWN_TABLE_GRANTS.audit, 'Coffer users, clients, groups, policies, issuers and IAM bindings': OWN_TABLE_GRANTS.identity };
    for (const [description, grants] of Object.entries(byName)) {
      expect(statementsOf(description).filter((s) => JSON.stringify(s.Action).includes('dynamodb:')), description).toEqual(
        grants.map((grant) => ({
          Sid: grant.sid,
          Effect: 'Allow',
          Action: grant.actions.length === 1 ? grant.actions[0] : [...grant.actions],
          Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
          Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...grant.leadingKeys] }, Null: { 'dynamodb:LeadingKeys': 'false' } },
        })),
      );
    }
    expect(OWN_TABLE_GRANTS.identity.flatMap((g) => g.leadingKeys)).toEqual(['PLATFORM#AUDIT', 'PLATFORM#IDENTITY', 'PLATFORM#IDEM#*']);
  });

  it('lets the shipper write only in audit partitions (its marks), never tenant metadata or secrets', () => {
    const writes = statementsOf('Coffer audit shipper (table stream to S3)').filter((s) =>
      [s.Action].flat().some((a: string) => ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'].includes(a)),
    );
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatchObject({
      Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['T#*#AUDIT', 'PLATFORM#AUDIT'] } },
    });
  });

  it('lets only the shipper sign audit batches, and only with the audit key', () => {
    const auditKeyId = logicalIdOf('AWS::KMS::Key', (p) => p.Description === 'Coffer audit batch signing key');
    const signers = ofType('AWS::IAM::Policy').filter(([, p]) =>
      JSON.stringify(p.Properties!.PolicyDocument.Statement).includes(`"${auditKeyId}"`),
    );
    expect(signers).toHaveLength(1);
    expect(actionsOf('Coffer audit shipper (table stream to S3)')).toContain('kms:Sign');
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/coffer/audit-signing', TargetKeyId: { 'Fn::GetAtt': [auditKeyId, 'Arn'] } });
  });

  it('feeds the shipper new audit events from the table stream, reporting failed items for redelivery', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionId('Coffer audit shipper (table stream to S3)') },
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'], dynamodb: { Keys: { sk: { S: [{ prefix: 'E#' }] } } } }) }] },
    });
  });

  it('gives the health check read-only table access and kms:DescribeKey', () => {
    const actions = actionsOf('Coffer deep health check');
    expect(actions).toContain('dynamodb:GetItem');
    expect(actions).toContain('kms:DescribeKey');
    for (const write of ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']) {
      expect(actions).not.toContain(write);
    }
  });

  it('lets the tenants function create keys only with the coffer tags, in Coffer regions', () => {
    const createKey = statementsOf('Coffer tenant administration').find((s) => s.Action === 'kms:CreateKey');
    expect(createKey).toMatchObject({
      Resource: '*',
      Condition: {
        Null: { 'aws:RequestTag/coffer:tenant': 'false' },
        StringEquals: {
          'aws:RequestTag/coffer:managed': 'true',
          'aws:RequestedRegion': ['eu-west-1', 'eu-central-1'],
        },
      },
    });
    expect(actionsOf('Coffer tenant administration')).toEqual(
      expect.arrayContaining(['kms:CreateAlias', 'kms:TagResource', 'kms:GenerateDataKey', 'kms:Encrypt']),
    );
    expect(actionsOf('Coffer tenant administration')).not.toContain('kms:Decrypt');
  });

  it('lets the tenants function discard only Coffer-managed keys and tenant aliases', () => {
    const statements = statementsOf('Coffer tenant administration');
    const discard = statements.find((s) => Array.isArray(s.Action) && s.Action.includes('kms:ScheduleKeyDeletion'));
    expect(discard.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/coffer:managed': 'true' } });
    const aliases = statements.find((s) => s.Sid === 'CreateTenantAliases');
    expect(JSON.stringify(aliases.Resource)).toContain(':alias/coffer/ten_*');
    expect(JSON.stringify(aliases.Resource)).not.toContain('token-signing');
  });

  it('lets only the shipper write audit objects, and only put them: no read, delete or retention change', () => {
    for (const [name, description] of Object.entries(descriptions)) {
      const s3 = actionsOf(description).filter((a) => a.startsWith('s3:'));
      expect(s3, description).toEqual(name === 'auditShipper' ? ['s3:PutObject'] : []);
    }
  });
});

describe('API', () => {
  it('is a regional REST API', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
  });

  it('verifies bearer tokens with a REQUEST authorizer (it audits refusals with the source IP), cached for 5 minutes', () => {
    template.resourceCountIs('AWS::ApiGateway::Authorizer', 1);
    const authorizerFn = functionId('Coffer token authorizer');
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'REQUEST',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: 300,
    });
    const [, authorizer] = ofType('AWS::ApiGateway::Authorizer')[0]!;
    expect(JSON.stringify(authorizer.Properties!.AuthorizerUri)).toContain(authorizerFn);
  });

  /** `METHOD /path` → { authorization, function logical id } for every method in the template. */
  const routes = (): Map<string, { authorization: string; authorizerId?: string; target: string; models?: unknown }> => {
    const paths = new Map<string, string>();
    const pathOf = (ref: any): string => {
      if (ref['Fn::GetAtt']?.[1] === 'RootResourceId') return '';
      const id = ref.Ref as string;
      if (!paths.has(id)) {
        const props = resources[id]!.Properties!;
        paths.set(id, `${pathOf(props.ParentId)}/${props.PathPart}`);
      }
      return paths.get(id)!;
    };
    const result = new Map();
    for (const [, method] of ofType('AWS::ApiGateway::Method')) {
      const p = method.Properties!;
      const target = JSON.stringify(p.Integration.Uri).match(/"(Functions\w+Function\w+)","Arn"/)?.[1];
      result.set(`${p.HttpMethod} ${pathOf(p.ResourceId)}`, {
        authorization: p.AuthorizationType,
        authorizerId: p.AuthorizerId?.Ref,
        target,
        ...(p.RequestModels ? { models: p.RequestModels } : {}),
      });
    }
    return result;
  };

  const EXPECTED_ROUTES: [route: string, auth: 'NONE' | 'CUSTOM', fn: string][] = [
    ['POST /v1/token', 'NONE', 'Coffer token issuance and JWKS'],
    ['GET /.well-known/jwks.json', 'NONE', 'Coffer token issuance and JWKS'],
    ['GET /health', 'NONE', 'Coffer deep health check'],
    ['POST /v1/admin/tenants', 'CUSTOM', 'Coffer tenant administration'],
    ['GET /v1/admin/tenants', 'CUSTOM', 'Coffer tenant administration'],
    ['GET /v1/admin/tenants/{tenantId}', 'CUSTOM', 'Coffer tenant administration'],
    ['GET /v1/secrets', 'CUSTOM', 'Coffer secrets API'],
    ['GET /v1/secrets/{path+}', 'CUSTOM', 'Coffer secrets API'],
    ['POST /v1/secrets/{path+}', 'CUSTOM', 'Coffer secrets API'],
    ['PUT /v1/secrets/{path+}', 'CUSTOM', 'Coffer secrets API'],
    ['DELETE /v1/secrets/{path+}', 'CUSTOM', 'Coffer secrets API'],
    ['GET /v1/metadata/{path+}', 'CUSTOM', 'Coffer secrets API'],
    ['DELETE /v1/metadata/{path+}', 'CUSTOM', 'Coffer secrets API'],
    ['POST /v1/restore/{path+}', 'CUSTOM', 'Coffer secrets API'],
    ['GET /v1/audit', 'CUSTOM', 'Coffer audit trail query and export'],
    ['GET /v1/audit/export', 'CUSTOM', 'Coffer audit trail query and export'],
    ['GET /v1/audit/sinks', 'CUSTOM', 'Coffer audit trail query and export'],
    ['PUT /v1/audit/sinks/{name}', 'CUSTOM', 'Coffer audit trail query and export'],
    ['DELETE /v1/audit/sinks/{name}', 'CUSTOM', 'Coffer audit trail query and export'],
    ...(
      [
        'GET /v1/whoami',
        'POST /v1/logout',
        'GET /v1/roles',
        'GET /v1/users',
        'POST /v1/users',
        'GET /v1/users/{name}',
        'PATCH /v1/users/{name}',
        'DELETE /v1/users/{name}',
        'PUT /v1/users/{name}/password',
        'POST /v1/users/{name}/totp',
        'DELETE /v1/users/{name}/totp',
        'POST /v1/users/{name}/totp/verify',
        'GET /v1/clients',
        'POST /v1/clients',
        'GET /v1/clients/{clientId}',
        'PATCH /v1/clients/{clientId}',
        'DELETE /v1/clients/{clientId}',
        'POST /v1/clients/{clientId}/secret',
        ...['groups', 'policies', 'issuers', 'iam-bindings'].flatMap((c) => [`GET /v1/${c}`, `GET /v1/${c}/{name}`, `PUT /v1/${c}/{name}`, `DELETE /v1/${c}/{name}`]),
        'GET /v1/network',
        'PUT /v1/network',
      ] as const
    ).map((route): [string, 'CUSTOM', string] => [route, 'CUSTOM', 'Coffer users, clients, groups, policies, issuers and IAM bindings']),
  ];

  it('serves exactly the specified routes', () => {
    const explicit = [...routes().keys()].filter((route) => !route.startsWith('ANY '));
    expect(explicit.sort()).toEqual(EXPECTED_ROUTES.map(([route]) => route).sort());
  });

  describe('every other request reaches Coffer through the authorizer (request.unrouted)', () => {
    const FUNCTIONS: Record<string, string> = {
      token: 'Coffer token issuance and JWKS',
      health: 'Coffer deep health check',
      tenants: 'Coffer tenant administration',
      secrets: 'Coffer secrets API',
      audit: 'Coffer audit trail query and export',
      identity: 'Coffer users, clients, groups, policies, issuers and IAM bindings',
    };
    const anyMethods = () => new Map([...routes()].filter(([route]) => route.startsWith('ANY ')).map(([route, m]) => [route.slice('ANY '.length) || '/', m]));

    it('puts an authorized ANY on every resource, answered by the route’s own function or the unrouted one', () => {
      const authorizerId = logicalIdOf('AWS::ApiGateway::Authorizer', () => true);
      const expected = gatewayResources();
      expect([...anyMethods().keys()].sort()).toEqual(expected.map((r) => r.path).sort());
      for (const node of expected) {
        expect(anyMethods().get(node.path), node.path).toEqual({ authorization: 'CUSTOM', authorizerId, target: functionId(FUNCTIONS[node.fallbackFn]!) });
      }
    });

    it('gives every resource without a path variable below it a greedy {proxy+} child', () => {
      const paths = new Set(gatewayResources().map((r) => r.path));
      for (const path of ['/{proxy+}', '/v1/{proxy+}', '/v1/admin/{proxy+}', '/v1/users/{name}/{proxy+}', '/v1/audit/sinks/{name}/{proxy+}', '/health/{proxy+}']) expect(paths, path).toContain(path);
      // A resource has at most one variable child (API Gateway refuses a second).
      for (const path of ['/v1/secrets/{proxy+}', '/v1/users/{proxy+}', '/v1/secrets/{path+}/{proxy+}']) expect(paths, path).not.toContain(path);
    });

    it('grants each function one API-wide invoke permission for its ANY methods, and stays far below 500 resources', () => {
      const apiScoped = ofType('AWS::Lambda::Permission').filter(([, p]) => JSON.stringify(p.Properties!.SourceArn).includes('/*/*/*'));
      expect(apiScoped.length).toBe(new Set(gatewayResources().map((r) => r.fallbackFn)).size);
      expect(Object.keys(resources).length).toBeLessThan(400);
    });
  });

  it.each(EXPECTED_ROUTES)('%s: authorization %s, served by "%s"', (route, auth, description) => {
    const authorizerId = logicalIdOf('AWS::ApiGateway::Authorizer', () => true);
    const { models: _models, ...method } = routes().get(route) ?? {};
    expect(method).toEqual({
      authorization: auth,
      authorizerId: auth === 'CUSTOM' ? authorizerId : undefined,
      target: functionId(description),
    });
  });

  it("checks a JSON object body at the edge on exactly the manifest's JSON-body methods", () => {
    const jsonObject = logicalIdOf('AWS::ApiGateway::Model', (p) => p.Name === 'JsonObject');
    const checked = [...routes()].filter(([, m]) => m.models).map(([route, m]) => {
      expect(m.models, route).toEqual({ 'application/json': { Ref: jsonObject } });
      return route;
    });
    const json = routeMethods().filter((r) => r.body === 'json').map((r) => `${r.method} ${r.resource}`);
    expect(checked.sort()).toEqual(json.sort());
    expect(json.length).toBeGreaterThanOrEqual(15);
  });

  it('requires the Authorization header and path parameters on protected routes', () => {
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'PUT',
      AuthorizationType: 'CUSTOM',
      RequestParameters: { 'method.request.header.Authorization': true, 'method.request.path.path': true },
      RequestValidatorId: Match.anyValue(),
      RequestModels: { 'application/json': Match.anyValue() },
    });
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestParameters: true,
      ValidateRequestBody: true,
    });
  });

  it('traces, access-logs and throttles the stage, and never logs request bodies', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"') },
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          DataTraceEnabled: false,
          LoggingLevel: 'ERROR',
          ThrottlingRateLimit: 200,
          ThrottlingBurstLimit: 400,
        }),
        Match.objectLike({ HttpMethod: 'POST', ResourcePath: '/~1v1~1token', ThrottlingRateLimit: 20 }),
      ]),
    });
  });

  describe('gateway errors as problem+json', () => {
    const responses = () =>
      new Map(ofType('AWS::ApiGateway::GatewayResponse').map(([, r]) => [r.Properties!.ResponseType as string, r.Properties!]));

    it.each([
      ['UNAUTHORIZED', '401', 'Unauthorized', 401],
      ['ACCESS_DENIED', '403', 'Forbidden', 403],
      ['DEFAULT_4XX', undefined, 'Request rejected', undefined],
      ['DEFAULT_5XX', undefined, 'Internal Server Error', undefined],
    ])('%s answers %s with an RFC 9457 body and the correlation id', (type, statusCode, title, status) => {
      const response = responses().get(type);
      expect(response, type).toBeDefined();
      expect(response!.StatusCode).toBe(statusCode);
      expect(response!.ResponseParameters).toEqual({
        'gatewayresponse.header.Content-Type': "'application/problem+json'",
        'gatewayresponse.header.X-Correlation-Id': 'context.requestId',
        'gatewayresponse.header.X-Coffer-Region': `'${fixture.regionalStacks[0]!.region}'`,
      });
      // Render the template as API Gateway would, then read it as JSON.
      const rendered = (response!.ResponseTemplates['application/json'] as string)
        .replaceAll('$context.error.messageString', '"Some gateway message"')
        .replaceAll('$context.requestId', 'req-123');
      const body = JSON.parse(rendered);
      expect(body).toMatchObject({ type: 'about:blank', title, correlationId: 'req-123' });
      expect(body.status).toBe(status);
      expect(typeof body.detail).toBe('string');
    });

    it('never echoes API Gateway internals in 5xx bodies', () => {
      for (const [type, response] of responses()) {
        if (type === 'DEFAULT_5XX' || response.StatusCode?.startsWith('5')) {
          expect(response.ResponseTemplates['application/json'], type).not.toContain('$context.error');
        }
      }
    });

    it('answers an authorizer that cannot verify with 503 and Retry-After, as the handlers answer an unavailable dependency', () => {
      const response = responses().get('AUTHORIZER_FAILURE');
      expect(response?.StatusCode).toBe('503');
      expect(response?.ResponseParameters).toMatchObject({ 'gatewayresponse.header.Retry-After': "'1'" });
      // Only retryable answers ask for a retry.
      for (const [type, other] of responses()) {
        if (type !== 'AUTHORIZER_FAILURE') expect(other.ResponseParameters['gatewayresponse.header.Retry-After'], type).toBeUndefined();
      }
    });

    it('answers unknown routes 404 instead of "Missing Authentication Token"', () => {
      expect(responses().get('MISSING_AUTHENTICATION_TOKEN')?.StatusCode).toBe('404');
    });
  });
});

describe('outputs', () => {
  it('exports the API URLs (execute-api and the regional name), table name, signing key ARN and audit bucket name', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs).sort()).toEqual(['ApiUrl', 'AuditBucketName', 'RegionalApiUrl', 'SigningKeyArn', 'TableName', 'TenantAccessRoleArn']);
    expect(outputs.RegionalApiUrl!.Value).toBe('https://eu-west-1.api.dev.coffer.example/');
    expect(JSON.stringify(outputs.ApiUrl!.Value)).toContain('.execute-api.eu-west-1.');
    expect(outputs.TableName!.Value).toEqual({ Ref: logicalIdOf('AWS::DynamoDB::GlobalTable', () => true) });
  });
});
