import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SKIP_BUNDLING, SYNTH_TIMEOUT_MS, type TempApp, tempApp } from './fixture';

// Encryption at rest and in transit, checked on every resource of every stack rather than
// on the ones we remembered.

type Resources = Record<string, { Type: string; Properties?: Record<string, any> }>;

let fixture: TempApp;
const all: [stack: string, id: string, resource: Resources[string]][] = [];

beforeAll(() => {
  fixture = tempApp({ context: SKIP_BUNDLING, nag: false });
  for (const stack of fixture.stacks) {
    for (const [id, resource] of Object.entries(Template.fromStack(stack).toJSON().Resources as Resources)) all.push([stack.stackName, id, resource]);
  }
}, SYNTH_TIMEOUT_MS);

afterAll(() => fixture?.dispose());

const ofType = (type: string) => all.filter(([, , r]) => r.Type === type);
/** The resource policies attached to one bucket or topic of one stack. */
const policiesOf = (type: string, stack: string, target: string) =>
  ofType(type)
    .filter(([s]) => s === stack)
    .map(([, , p]) => p.Properties!)
    .filter((p) => [p.Bucket, ...(p.Topics ?? [])].some((ref: any) => ref?.Ref === target));

describe('encryption everywhere', () => {
  it('encrypts every bucket, blocks public access, and refuses plain HTTP to it', () => {
    expect(ofType('AWS::S3::Bucket').length).toBe(4);
    for (const [stack, id, bucket] of ofType('AWS::S3::Bucket')) {
      expect(bucket.Properties!.BucketEncryption?.ServerSideEncryptionConfiguration, `${stack}/${id}`).toHaveLength(1);
      expect(bucket.Properties!.PublicAccessBlockConfiguration, `${stack}/${id}`).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      const tlsOnly = policiesOf('AWS::S3::BucketPolicy', stack, id).flatMap((p) => p.PolicyDocument.Statement).filter((s: any) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false');
      expect(tlsOnly, `${stack}/${id}`).toHaveLength(1);
    }
  });

  it('encrypts every SNS topic under a customer key and refuses plain HTTP to it', () => {
    expect(ofType('AWS::SNS::Topic').length).toBe(3);
    for (const [stack, id, topic] of ofType('AWS::SNS::Topic')) {
      expect(topic.Properties!.KmsMasterKeyId?.['Fn::GetAtt']?.[1], `${stack}/${id}`).toBe('Arn');
      const tlsOnly = policiesOf('AWS::SNS::TopicPolicy', stack, id).flatMap((p) => p.PolicyDocument.Statement).filter((s: any) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false');
      expect(tlsOnly, `${stack}/${id}`).toHaveLength(1);
    }
  });

  it('encrypts the global table (every replica, under its region’s key)', () => {
    const [[, , table]] = ofType('AWS::DynamoDB::GlobalTable') as [[string, string, Resources[string]]];
    // SSE-KMS under the AWS-managed aws/dynamodb key of each replica's region (no key id to name).
    expect(table.Properties!.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS' });
  });

  it('rotates every symmetric customer key (the ECC signing keys cannot rotate; their rotation is a new key)', () => {
    for (const [stack, id, key] of ofType('AWS::KMS::Key')) {
      if (key.Properties!.KeySpec === 'ECC_NIST_P256') continue;
      expect(key.Properties!.EnableKeyRotation, `${stack}/${id}`).toBe(true);
    }
  });

  it('keeps every log group for a stated time (CloudWatch Logs encrypts them at rest)', () => {
    expect(ofType('AWS::Logs::LogGroup').length).toBeGreaterThanOrEqual(2 * 9);
    for (const [stack, id, group] of ofType('AWS::Logs::LogGroup')) expect(group.Properties!.RetentionInDays, `${stack}/${id}`).toBeGreaterThan(0);
  });
});
