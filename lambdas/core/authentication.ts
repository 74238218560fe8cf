import type { Clock } from '../ports/clock';
import type { ClaimBinding, IdentityRecordReader, IssuerRecord, LoginBookkeeping, SessionStore, UserRecord } from '../ports/identity';
import type { ClientRepository } from '../ports/tenant-repository';
import { verifySecret } from './credentials';
import { UnauthenticatedError } from './errors';
import { scopeOfClientId, TENANT_ID } from './ids';
import { isLocked } from './identity/lockout';
import { claimPasswordAttempt, failPasswordAttempt } from './identity/attempts';
import { assertSourceNotThrottled, countSourceFailure } from './identity/source-throttle';
import { USERNAME } from './identity/names';
import { newRefreshToken, parseRefreshToken, REFRESH_WINDOW_MS, refreshTokenHash, SESSION_MAX_MS } from './identity/refresh-tokens';
import { acceptedStep, type TotpSeeds } from './identity/totp';
import { checkSignedCallerIdentity, roleArnOf, type SignedStsRequest } from './identity/aws-iam';
import { bestIamBinding, matchingClaimBindings } from './identity/federation';
import type { Principal, Role, TenantPrincipal } from './principal';
import { newSessionId, type LoginFacts, type TokenIssuer, type TokenResponse } from './tokens';
import { effectiveRoles } from './identity/roles';

/** Forwards a signed sts:GetCallerIdentity to STS and returns the caller's ARN. */
export interface CallerIdentityService {
  callerArn(request: SignedStsRequest): Promise<string>;
}

/** Verifies an external OIDC token against its issuer's JWKS; returns its claims. */
export interface FederatedTokenVerifier {
  verify(issuer: IssuerRecord, assertion: string): Promise<Record<string, unknown>>;
}

export interface AuthenticationDeps {
  readonly clients: ClientRepository;
  readonly records: IdentityRecordReader;
  readonly logins: LoginBookkeeping;
  readonly sessions: SessionStore;
  readonly tokens: TokenIssuer;
  readonly clock: Clock;
  readonly totp?: TotpSeeds;
  readonly sts?: CallerIdentityService;
  /** Hosts a signed STS request may name, besides AWS's own STS endpoints (local runtime). */
  readonly extraStsHosts?: readonly string[];
  readonly federation?: FederatedTokenVerifier;
}

export interface Login {
  readonly principal: Principal;
  readonly token: TokenResponse;
}

/** External tokens with a longer life than this are refused (they could not be revoked). */
const MAX_ASSERTION_LIFETIME_MS = 24 * 3600_000;

/** Raised after a right password when the user has TOTP and sent no code (OAuth's mfa_required). */
export class MfaRequiredError extends UnauthenticatedError {
  constructor() {
    super('A one-time code (otp) is required for this user.', 'otp-required');
  }
}

// Grants of POST /v1/token. Every failure is the same UnauthenticatedError, after the same
// amount of work where a guesser could time it, so a caller learns nothing about which
// part was wrong. Failures are counted: wrong passwords lock the user (identity/lockout.ts),
// wrong client secrets throttle their source address (identity/source-throttle.ts).
export class Authentication {
  constructor(private readonly deps: AuthenticationDeps) {}

  /**
   * API clients (tenant and platform). A known and an unknown client id cost the same: one
   * read of the client and one of the source's failures, one hash, and on failure one count
   * for the source — nothing is written to the client, so no one can lock it out.
   */
  async clientCredentials(clientId: string, clientSecret: string, sourceIp: string): Promise<Login> {
    const now = this.deps.clock.now();
    const scope = scopeOfClientId(clientId);
    const [client] = await Promise.all([
      scope === undefined ? undefined : this.deps.clients.get(scope, clientId),
      assertSourceNotThrottled(this.deps.logins, sourceIp, now),
    ]);
    const secretMatches = await verifySecret(clientSecret, client?.secretHash);
    if (!client || !secretMatches || client.status !== 'active') {
      await countSourceFailure(this.deps.logins, sourceIp, now);
      throw new UnauthenticatedError();
    }
    const facts: LoginFacts = { source: { kind: 'client', name: client.clientId }, generation: client.generation ?? 1, amr: ['client_secret'] };
    if (client.scope === 'platform') {
      const principal: Principal = { kind: 'platform', type: 'platform', id: client.clientId, authMethod: 'client_credentials' };
      return { principal, token: await this.deps.tokens.issue(principal, facts) };
    }
    const principal = await this.tenantPrincipal(client.scope, 'client', client.clientId, client.roles, client.groups ?? [], 'client_credentials');
    return { principal, token: await this.deps.tokens.issue(principal, facts) };
  }

  /** Tenant users: password, then TOTP when enrolled; answers with a refresh token too. */
  async password(input: { tenant: string; username: string; password: string; otp?: string }): Promise<Login> {
    const now = this.deps.clock.now();
    const valid = TENANT_ID.test(input.tenant) && USERNAME.test(input.username);
    const user = valid ? await this.deps.records.get(input.tenant, 'user', input.username) : undefined;
    // The attempt is claimed before the password is checked, so a burst of parallel
    // guesses gets the same few tries as a sequence (core/identity/lockout.ts).
    const attempt = user ? await claimPasswordAttempt(this.deps.logins, user, now) : undefined;
    // An unknown or locked user costs the same write, and a locked, refused or missing one
    // the same hash, as a wrong password: neither the answer nor its timing tells which.
    if (valid && (!user || isLocked(user, now))) await this.deps.logins.decoyAttempt(input.tenant);
    const passwordMatches = await verifySecret(input.password, attempt === undefined ? undefined : user?.passwordHash);
    if (!user || attempt === undefined || !passwordMatches) {
      if (user && attempt !== undefined) await failPasswordAttempt(this.deps.logins, user, attempt, now);
      throw new UnauthenticatedError(undefined, !user ? 'unknown-user' : attempt === undefined ? 'locked' : 'bad-password');
    }
    if (user.status !== 'active') throw new UnauthenticatedError(undefined, 'disabled');

    const mfa = user.totp?.status === 'enabled';
    if (mfa) {
      if (input.otp === undefined) throw new MfaRequiredError();
      const secret = await this.totp().open(user.tenantId, user.username, user.totp!.sealedSecret);
      const step = acceptedStep(secret, input.otp, now, user.totp!.lastStep);
      // A wrong or replayed code counts as a failure: TOTP cannot be brute-forced either.
      if (step === undefined || !(await this.deps.logins.claimOtpStep(user.tenantId, user.username, step))) {
        await failPasswordAttempt(this.deps.logins, user, attempt, now);
        throw new UnauthenticatedError(undefined, 'bad-otp');
      }
    }
    await this.deps.logins.recordSuccess(user.tenantId, 'user', user.username);

    const sessionId = newSessionId();
    const refreshToken = newRefreshToken(user.tenantId, sessionId);
    await this.deps.sessions.createSession({
      tenantId: user.tenantId,
      sessionId,
      username: user.username,
      currentHash: refreshTokenHash(refreshToken),
      spent: [],
      generation: user.generation,
      mfa,
      createdAt: now,
      refreshExpiresAt: now + REFRESH_WINDOW_MS,
      absoluteExpiresAt: now + SESSION_MAX_MS,
      revoked: false,
    });
    return this.userLogin(user, sessionId, mfa, refreshToken);
  }

  /**
   * Rotates a refresh token. Presenting one already used means it was copied: the whole
   * session is revoked, the thief's and the owner's tokens alike.
   */
  async refresh(refreshToken: string): Promise<Login> {
    const now = this.deps.clock.now();
    const parsed = parseRefreshToken(refreshToken);
    if (!parsed) throw new UnauthenticatedError();
    const { tenantId, sessionId } = parsed;
    const presented = refreshTokenHash(refreshToken);
    const session = await this.deps.sessions.getSession(tenantId, sessionId);
    if (!session || session.revoked) throw new UnauthenticatedError();
    if (session.spent.includes(presented)) {
      await this.deps.sessions.revokeSession(tenantId, sessionId, session.absoluteExpiresAt);
      throw new UnauthenticatedError(undefined, 'refresh-reuse');
    }
    if (session.currentHash !== presented || session.refreshExpiresAt <= now || session.absoluteExpiresAt <= now) throw new UnauthenticatedError();

    const user = await this.deps.records.get(tenantId, 'user', session.username);
    if (!user || user.status !== 'active' || user.generation !== session.generation) throw new UnauthenticatedError();
    const next = newRefreshToken(tenantId, sessionId);
    const expiresAt = Math.min(now + REFRESH_WINDOW_MS, session.absoluteExpiresAt);
    if (!(await this.deps.sessions.rotateSession(tenantId, sessionId, presented, refreshTokenHash(next), now, expiresAt))) {
      // Two uses raced: one of them is a copy. Same rule as a replay.
      await this.deps.sessions.revokeSession(tenantId, sessionId, session.absoluteExpiresAt);
      throw new UnauthenticatedError(undefined, 'refresh-race');
    }
    return this.userLogin(user, sessionId, session.mfa, next);
  }

  /** AWS IAM: a signed sts:GetCallerIdentity, checked, then forwarded to STS. */
  async awsIam(input: { tenant: string; request: SignedStsRequest }): Promise<Login> {
    const now = this.deps.clock.now();
    if (!TENANT_ID.test(input.tenant) || !this.deps.sts) throw new UnauthenticatedError();
    const signature = checkSignedCallerIdentity(input.request, { tenantId: input.tenant, now, extraHosts: this.deps.extraStsHosts ?? [] });
    // STS first (it checks the signature), so unsigned junk writes nothing in the tenant;
    // then one use per signed request: a captured one cannot be replayed in its 15 minutes.
    const arn = await this.deps.sts.callerArn(input.request);
    if (!(await this.deps.logins.claimNonce(input.tenant, `iam:${signature}`, now + 20 * 60_000))) throw new UnauthenticatedError();
    const binding = bestIamBinding(await this.deps.records.all(input.tenant, 'iam-binding'), arn, roleArnOf(arn));
    if (!binding) throw new UnauthenticatedError();
    const principal = await this.tenantPrincipal(input.tenant, 'iam', arn, binding.roles, binding.groups ?? [], 'aws_iam');
    return {
      principal,
      token: await this.deps.tokens.issue(principal, { source: { kind: 'iam-binding', name: binding.name }, generation: binding.generation, amr: ['aws_iam'] }),
    };
  }

  /** External OIDC tokens from a tenant's trusted issuers, mapped to roles by claims. */
  async jwt(input: { tenant: string; assertion: string; role?: Role }): Promise<Login> {
    if (!TENANT_ID.test(input.tenant) || !this.deps.federation) throw new UnauthenticatedError();
    const iss = unverifiedIssuer(input.assertion);
    const issuers = iss === undefined ? [] : (await this.deps.records.all(input.tenant, 'issuer')).filter((i) => i.issuer === iss && i.status === 'active');
    for (const issuer of issuers) {
      let claims: Record<string, unknown>;
      try {
        claims = await this.deps.federation.verify(issuer, input.assertion);
      } catch (error) {
        if (error instanceof UnauthenticatedError) continue;
        throw error;
      }
      // aws-jwt-verify accepts a token without `exp`: a login needs one, at most a day out.
      const exp = claims.exp;
      if (typeof exp !== 'number' || exp * 1000 > this.deps.clock.now() + MAX_ASSERTION_LIFETIME_MS) continue;
      const bindings = matchingClaimBindings(issuer.bindings, claims);
      const granted = new Set(bindings.flatMap((b: ClaimBinding) => b.roles));
      const groups = [...new Set(bindings.flatMap((b: ClaimBinding) => b.groups ?? []))];
      if (granted.size === 0 || (input.role !== undefined && !granted.has(input.role))) continue;
      const roles = input.role !== undefined ? [input.role] : [...granted];
      const subject = typeof claims.sub === 'string' ? claims.sub : '';
      if (!subject) continue;
      const member = await this.tenantPrincipal(input.tenant, 'federated', `${issuer.name}:${subject}`.slice(0, 256), roles, groups, 'jwt');
      // `role` narrows the token to that one role, but the groups stay: what policies say of
      // a group (its denies above all) cannot be shed by asking for less.
      const principal: TenantPrincipal = input.role !== undefined ? { ...member, roles: [input.role] } : member;
      return {
        principal,
        token: await this.deps.tokens.issue(principal, { source: { kind: 'issuer', name: issuer.name }, generation: issuer.generation, amr: ['jwt'] }),
      };
    }
    throw new UnauthenticatedError();
  }

  private async userLogin(user: UserRecord, sessionId: string, mfa: boolean, refreshToken: string): Promise<Login> {
    const base = await this.tenantPrincipal(user.tenantId, 'user', user.username, user.roles, user.groups, 'password');
    const principal: TenantPrincipal = { ...base, mfa, sessionId };
    const token = await this.deps.tokens.issue(principal, {
      source: { kind: 'user', name: user.username },
      generation: user.generation,
      amr: mfa ? ['pwd', 'otp'] : ['pwd'],
      sessionId,
    });
    return { principal, token: { ...token, refresh_token: refreshToken } };
  }

  private async tenantPrincipal(
    tenantId: string,
    type: TenantPrincipal['type'],
    id: string,
    roles: readonly Role[],
    groupNames: readonly string[],
    authMethod: TenantPrincipal['authMethod'],
  ): Promise<TenantPrincipal> {
    const groups = groupNames.length ? await this.deps.records.groups(tenantId, groupNames) : [];
    return { kind: 'tenant', tenantId, type, id, roles: effectiveRoles(roles, groups), groups: groups.map((g) => g.name), ...(authMethod ? { authMethod } : {}) };
  }

  private totp(): TotpSeeds {
    if (!this.deps.totp) throw new UnauthenticatedError();
    return this.deps.totp;
  }
}

/** The `iss` an external token claims, read before verification only to pick the issuer record. */
function unverifiedIssuer(assertion: string): string | undefined {
  const parts = assertion.split('.');
  if (parts.length !== 3 || assertion.length > 16_384) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { iss?: unknown };
    return typeof payload.iss === 'string' ? payload.iss : undefined;
  } catch {
    return undefined;
  }
}

