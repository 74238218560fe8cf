import { beforeEach, describe, expect, it } from 'vitest';
import type { FederatedTokenVerifier } from '../../../lambdas/core/authentication';
import { DependencyUnavailableError, UnauthenticatedError } from '../../../lambdas/core/errors';
import type { Role } from '../../../lambdas/core/principal';
import type { IssuerRecord } from '../../../lambdas/ports/identity';
import { TENANT_A, TENANT_B } from '../support/fakes';
import { GENERIC, groupRecord, harness, issuerRecord, payloadOf } from '../support/identity-fixtures';

const GITHUB = 'https://token.actions.githubusercontent.com';
const GITLAB = 'https://gitlab.example.com';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
/** An unsigned-looking JWT; the fake verifier accepts it for the issuer named in its signature part. */
// Claims get an `exp` five minutes after NOW unless the test sets one (a login needs it).
const jwt = (claims: Record<string, unknown>, signedBy: string) => `${b64({ alg: 'RS256', kid: 'k1' })}.${b64({ exp: Math.floor(NOW / 1000) + 300, ...claims })}.sig-${signedBy}`;
const NOW = Date.parse('2026-11-24T12:00:00.000Z'); // harness()'s clock

/** Accepts an assertion iff its signature part names the issuer record it is checked against. */
class FakeFederation implements FederatedTokenVerifier {
  readonly calls: string[] = [];
  failure?: Error;
  async verify(issuer: IssuerRecord, assertion: string): Promise<Record<string, unknown>> {
    this.calls.push(issuer.name);
    if (this.failure) throw this.failure;
    const [, payload, signature] = assertion.split('.');
    if (signature !== `sig-${issuer.name}`) throw new UnauthenticatedError();
    return JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
  }
}

const mainClaims = { iss: GITHUB, sub: 'repo:acme/app:ref:refs/heads/main', repository: 'acme/app', repository_owner: 'acme', ref: 'refs/heads/main', run_attempt: 1 };
const tagClaims = { ...mainClaims, sub: 'repo:acme/app:ref:refs/tags/v1.2.0', ref: 'refs/tags/v1.2.0' };

let federation: FakeFederation;
let h: ReturnType<typeof harness>;

const grant = (assertion: string, role?: Role, tenant = TENANT_A) => h.auth.jwt({ tenant, assertion, ...(role ? { role } : {}) });

async function refusal(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnauthenticatedError);
  expect((error as Error).message).toBe(GENERIC);
}

beforeEach(() => {
  federation = new FakeFederation();
  h = harness(undefined, { federation });
  h.identities.seed(
    TENANT_A,
    'issuer',
    issuerRecord(
      TENANT_A,
      'github',
      GITHUB,
      [
        { claims: { repository: 'acme/app', ref: 'refs/heads/main' }, roles: ['contributor'] },
        { claims: { repository: 'acme/app', ref: 'refs/tags/*' }, roles: ['admin'], groups: ['releasers'] },
        { claims: { repository_owner: 'acme', repository: 'acme/*' }, roles: ['viewer'] },
      ],
      { generation: 5 },
    ),
  );
  h.identities.seed(TENANT_A, 'group', groupRecord(TENANT_A, 'releasers', ['owner']));
  h.identities.resetCalls();
});

describe('Authentication.jwt: claim bindings', () => {
  it('grants every role whose binding matches: main branch → contributor and viewer', async () => {
    const { principal, token } = await grant(jwt(mainClaims, 'github'));
    expect(principal).toEqual({
      kind: 'tenant',
      tenantId: TENANT_A,
      type: 'federated',
      id: 'github:repo:acme/app:ref:refs/heads/main',
      roles: ['contributor', 'viewer'],
      groups: [],
      authMethod: 'jwt',
    });
    expect(payloadOf(token.access_token)).toMatchObject({
      sub: 'github:repo:acme/app:ref:refs/heads/main',
      ptype: 'federated',
      tid: TENANT_A,
      roles: ['contributor', 'viewer'],
      amr: ['jwt'],
      src: 'issuer:github',
      gen: 5,
    });
    expect(token).not.toHaveProperty('refresh_token');
    expect(federation.calls).toEqual(['github']);
  });

  it("matches a wildcard claim (refs/tags/*) and adds the binding's groups", async () => {
    const { principal } = await grant(jwt(tagClaims, 'github'));
    expect(principal).toMatchObject({ roles: ['owner', 'admin', 'viewer'], groups: ['releasers'] });
  });

  it('requires every claim of a binding: a feature branch of acme/app gets only the repo-wide role', async () => {
    const { principal } = await grant(jwt({ ...mainClaims, ref: 'refs/heads/feature' }, 'github'));
    expect(principal).toMatchObject({ roles: ['viewer'] });
  });

  it('refuses a token no binding matches', async () => {
    await refusal(grant(jwt({ ...mainClaims, repository: 'evil/app', sub: 'repo:evil/app' }, 'github')));
    expect(h.signer.signed).toHaveLength(0);
  });

  it('does not match a claim the token lacks, even against *', async () => {
    h.identities.seed(TENANT_A, 'issuer', issuerRecord(TENANT_A, 'github', GITHUB, [{ claims: { repository: 'acme/app', environment: '*' }, roles: ['admin'] }]));
    await refusal(grant(jwt(mainClaims, 'github')));
    const { principal } = await grant(jwt({ ...mainClaims, environment: 'prod' }, 'github'));
    expect(principal).toMatchObject({ roles: ['admin'] });
  });

  it('matches a list claim if any item matches, and numbers and booleans by their text', async () => {
    h.identities.seed(
      TENANT_A,
      'issuer',
      issuerRecord(TENANT_A, 'github', GITHUB, [
        { claims: { repository: 'acme/app', teams: 'platform' }, roles: ['admin'] },
        { claims: { repository: 'acme/app', run_attempt: '1', fork: 'false' }, roles: ['viewer'] },
      ]),
    );
    const { principal } = await grant(jwt({ ...mainClaims, teams: ['web', 'platform'], fork: false }, 'github'));
    expect(principal).toMatchObject({ roles: ['admin', 'viewer'] });
    await refusal(grant(jwt({ ...mainClaims, teams: [{ name: 'platform' }], fork: 'true' }, 'github')));
  });

  it('ignores a stored binding that names no caller (written before the rule), and keeps the specific ones', async () => {
    h.identities.seed(
      TENANT_A,
      'issuer',
      issuerRecord(TENANT_A, 'github', GITHUB, [
        { claims: { sub: 'repo:*' }, roles: ['admin'] },
        { claims: { ref: 'refs/heads/main' }, roles: ['admin'] },
        { claims: { sub: 'repo:acme/app:*' }, roles: ['viewer'] },
      ]),
    );
    const { principal } = await grant(jwt(mainClaims, 'github'));
    expect(principal).toMatchObject({ roles: ['viewer'] });
    await refusal(grant(jwt({ ...mainClaims, sub: 'repo:evil/app:ref:refs/heads/main', repository: 'evil/app' }, 'github')));
  });

  it('refuses a verified token without a subject', async () => {
    const { sub: _sub, ...noSubject } = mainClaims;
    await refusal(grant(jwt(noSubject, 'github')));
    await refusal(grant(jwt({ ...mainClaims, sub: 42 }, 'github')));
  });

  it('caps the principal id at 256 characters', async () => {
    const { principal } = await grant(jwt({ ...mainClaims, sub: 'x'.repeat(400) }, 'github'));
    expect(principal.id).toBe(`github:${'x'.repeat(249)}`);
  });
});

describe('Authentication.jwt: a requested role', () => {
  it("narrows the token to the requested role when a binding grants it, keeping the groups (their denies cannot be shed) but not their roles", async () => {
    const { groups } = (await grant(jwt(tagClaims, 'github'))).principal as { groups: readonly string[] };
    expect(groups.length).toBeGreaterThan(0);
    const { principal, token } = await grant(jwt(tagClaims, 'github'), 'viewer');
    expect(principal).toMatchObject({ roles: ['viewer'], groups });
    expect(payloadOf(token.access_token)).toMatchObject({ roles: ['viewer'], grp: groups });
  });

  it('refuses a role none of the matching bindings grants', async () => {
    await refusal(grant(jwt(mainClaims, 'github'), 'admin'));
    await refusal(grant(jwt(mainClaims, 'github'), 'owner'));
  });

  it('refuses a role granted only through a group (roles requested must be bound directly)', async () => {
    await refusal(grant(jwt(tagClaims, 'github'), 'owner'));
  });
});

describe('Authentication.jwt: choosing the issuer', () => {
  beforeEach(() => {
    h.identities.seed(TENANT_A, 'issuer', issuerRecord(TENANT_A, 'gitlab', GITLAB, [{ claims: { project_path: 'acme/app' }, roles: ['admin'] }]));
    h.identities.resetCalls();
  });

  it('verifies only against the issuer records whose issuer is the unverified iss', async () => {
    const { principal } = await grant(jwt({ iss: GITLAB, sub: 'project_path:acme/app', project_path: 'acme/app' }, 'gitlab'));
    expect(principal).toMatchObject({ id: 'gitlab:project_path:acme/app', roles: ['admin'] });
    expect(federation.calls).toEqual(['gitlab']);
  });

  it('cannot borrow another issuer’s bindings by naming it in iss', async () => {
    // Claims iss=GitLab but is signed by GitHub's keys: the GitLab record's verification fails.
    await refusal(grant(jwt({ iss: GITLAB, sub: 'repo:acme/app', project_path: 'acme/app' }, 'github')));
    expect(federation.calls).toEqual(['gitlab']);
  });

  it('refuses an unknown iss without verifying anything', async () => {
    await refusal(grant(jwt({ ...mainClaims, iss: 'https://evil.example.com' }, 'github')));
    expect(federation.calls).toEqual([]);
  });

  it.each([
    ['two segments', () => 'a.b'],
    ['garbage', () => 'not-a-jwt'],
    ['a payload that is not JSON', () => `${b64({})}.${Buffer.from('nope').toString('base64url')}.sig-github`],
    ['no iss', () => jwt({ sub: 'x', repository: 'acme/app' }, 'github')],
    ['a numeric iss', () => jwt({ ...mainClaims, iss: 7 }, 'github')],
    ['an oversized assertion', () => jwt({ ...mainClaims, pad: 'x'.repeat(16_384) }, 'github')],
  ])('refuses %s without reading issuers', async (_name, assertion) => {
    await refusal(grant(assertion()));
    expect(h.identities.calls.all).toBe(0);
    expect(federation.calls).toEqual([]);
  });

  it('ignores a disabled issuer', async () => {
    h.identities.seed(TENANT_A, 'issuer', { ...h.identities.peek(TENANT_A, 'issuer', 'github')!, status: 'disabled' });
    await refusal(grant(jwt(mainClaims, 'github')));
    expect(federation.calls).toEqual([]);
  });

  it('tries the next active record for the same iss when one does not verify or grants nothing', async () => {
    h.identities.seed(TENANT_A, 'issuer', issuerRecord(TENANT_A, 'github-old', GITHUB, [{ claims: { repository: 'acme/app' }, roles: ['owner'] }], { status: 'disabled' }));
    h.identities.seed(TENANT_A, 'issuer', issuerRecord(TENANT_A, 'github-ops', GITHUB, [{ claims: { repository: 'acme/ops' }, roles: ['admin'] }]));
    h.identities.seed(TENANT_A, 'issuer', issuerRecord(TENANT_A, 'github-prod', GITHUB, [{ claims: { repository: 'acme/app' }, roles: ['admin'] }]));
    const { principal, token } = await grant(jwt(mainClaims, 'github-prod'));
    expect(principal).toMatchObject({ id: 'github-prod:repo:acme/app:ref:refs/heads/main', roles: ['admin'] });
    expect(payloadOf(token.access_token).src).toBe('issuer:github-prod');
    expect(federation.calls).not.toContain('github-old');
    expect(federation.calls.at(-1)).toBe('github-prod');
  });

  it('lets an outage of the verifier through rather than calling it a bad token', async () => {
    federation.failure = new DependencyUnavailableError('sts');
    await expect(grant(jwt(mainClaims, 'github'))).rejects.toBeInstanceOf(DependencyUnavailableError);
  });

  it("keeps tenants apart: another tenant's issuers are not consulted", async () => {
    await refusal(grant(jwt(mainClaims, 'github'), undefined, TENANT_B));
    expect(federation.calls).toEqual([]);
  });

  it('refuses a malformed tenant and works only with a verifier configured', async () => {
    await refusal(grant(jwt(mainClaims, 'github'), undefined, 'tenant-a'));
    const bare = harness();
    bare.identities.seed(TENANT_A, 'issuer', h.identities.peek(TENANT_A, 'issuer', 'github')!);
    await refusal(bare.auth.jwt({ tenant: TENANT_A, assertion: jwt(mainClaims, 'github') }));
  });
});
