import { describe, expect, it } from 'vitest';
import { bestIamBinding, isSafeArnPattern, isSpecificClaimBinding } from '../../../lambdas/core/identity/federation';
import { TENANT_A } from '../support/fakes';
import { iamBinding } from '../support/identity-fixtures';

describe('isSafeArnPattern: one partition, service and account', () => {
  it.each([
    'arn:aws:iam::123456789012:role/deploy',
    'arn:aws:iam::123456789012:role/ci-*',
    'arn:aws:iam::123456789012:*',
    'arn:aws:sts::123456789012:assumed-role/deploy/*',
    'arn:aws-cn:iam::123456789012:user/ops',
    'arn:aws-us-gov:iam::123456789012:user/ops',
  ])('accepts %s', (pattern) => expect(isSafeArnPattern(pattern)).toBe(true));

  it.each([
    ['any account', 'arn:aws:iam::*:role/deploy'],
    ['any service (its star can swallow another account)', 'arn:aws:*::123456789012:role/deploy'],
    ['any partition', 'arn:*:iam::123456789012:role/deploy'],
    ['a short account', 'arn:aws:iam::12345:role/deploy'],
    ['another service', 'arn:aws:s3::123456789012:bucket'],
    ['a region', 'arn:aws:iam:eu-west-1:123456789012:role/x'],
    ['whitespace', 'arn:aws:iam::123456789012:role/a b'],
    ['no resource', 'arn:aws:iam::123456789012:'],
  ])('refuses %s', (_why, pattern) => expect(isSafeArnPattern(pattern)).toBe(false));
});

describe('bestIamBinding', () => {
  it("never lets a stored any-service pattern admit another account's IAM user whose path imitates the account", () => {
    // IAM paths may contain ':', so this user of account 999999999999 ends like a role of 123456789012.
    const attacker = 'arn:aws:iam::999999999999:user/::123456789012:role/deploy';
    const lax = iamBinding(TENANT_A, 'lax', 'arn:aws:*::123456789012:role/deploy', ['admin']);
    expect(bestIamBinding([lax], attacker, undefined)).toBeUndefined();
    const strict = iamBinding(TENANT_A, 'strict', 'arn:aws:iam::123456789012:role/*', ['admin']);
    expect(bestIamBinding([strict], attacker, undefined)).toBeUndefined();
    expect(bestIamBinding([strict], 'arn:aws:iam::123456789012:role/deploy', undefined)?.name).toBe('strict');
  });
});

describe('isSpecificClaimBinding: one claim that says who', () => {
  it.each([
    [{ repository: 'acme/app' }],
    [{ repository_owner: 'acme', repository: 'acme/*' }],
    [{ sub: 'repo:acme/app:*' }],
    [{ sub: 'repo:acme/*' }],
    [{ sub: 'repo:acme/app:ref:refs/heads/main' }],
    [{ project_path: 'acme/app', ref: 'main' }],
    [{ oid: '00000000-0000-0000-0000-000000000001' }],
    [{ tid: '72f988bf-86f1-41af-91ab-2d7cd011db47', appid: '1950a258-227b-4e31-a9cf-717495945fc2' }],
    [{ 'cognito:username': 'deploy-bot' }],
  ])('accepts %j', (claims) => expect(isSpecificClaimBinding(claims)).toBe(true));

  it.each([
    [{ sub: '*' }],
    [{ sub: 'repo:*' }],
    [{ sub: 'repo:acme*' }],
    [{ repository: 'acme/*' }],
    [{ ref: 'refs/heads/main' }],
    [{ event_name: 'push' }],
    [{ runner_environment: 'github-hosted' }],
    [{ repository_visibility: 'public' }],
    [{ aud: 'coffer', iss: 'https://token.actions.githubusercontent.com' }],
    [{ environment: 'production' }],
    [{ repository: '' }],
  ])('refuses %j', (claims) => expect(isSpecificClaimBinding(claims)).toBe(false));
});
