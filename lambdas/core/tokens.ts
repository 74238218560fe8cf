import { randomBytes } from 'node:crypto';
import type { Clock } from '../ports/clock';
import type { TokenSource } from '../ports/identity';
import type { TokenSigner } from '../ports/key-service';
import type { Principal, Role } from './principal';

export const ACCESS_TOKEN_TTL_SECONDS = 3600;
/** How far ahead of the checker's clock a token's iat may be (clocks drift between hosts). */
export const TOKEN_CLOCK_SKEW_SECONDS = 60;

/**
 * Coffer's own access tokens live at most ACCESS_TOKEN_TTL_SECONDS: a token signed with the
 * real key but without `exp`, with a longer life, or issued in the future is refused, so a
 * signing mistake or a leaked signing capability cannot mint a lasting credential. (Expiry
 * itself, `exp` in the past, is the JWT library's check.)
 */
export function hasAcceptableLifetime(claims: { readonly iat?: unknown; readonly exp?: unknown }, nowSeconds: number): boolean {
  const { iat, exp } = claims;
  if (!Number.isSafeInteger(iat) || !Number.isSafeInteger(exp)) return false;
  const issued = iat as number;
  const expires = exp as number;
  return expires > issued && expires - issued <= ACCESS_TOKEN_TTL_SECONDS && issued <= nowSeconds + TOKEN_CLOCK_SKEW_SECONDS;
}

export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly refresh_token?: string;
}

/** Claims Coffer puts in its access tokens, beyond the registered ones. */
export interface CofferClaims {
  readonly tid?: string;
  readonly ptype: Principal['type'];
  readonly roles: readonly Role[];
  /** Groups the roles came from; the authorizer re-reads them on every check. */
  readonly grp: readonly string[];
  /** RFC 8176 methods: pwd, otp, client_secret, aws_iam, jwt. */
  readonly amr: readonly string[];
  /** The session (refresh family) or, for single tokens, the token's own revocation handle. */
  readonly sid: string;
  /** `<kind>:<name>` of the record that minted it, and that record's generation. */
  readonly src: string;
  readonly gen: number;
}

export interface TokenSettings {
  readonly issuer: string;
  readonly audience: string;
}

/** What a grant established about the caller, beyond the principal. */
export interface LoginFacts {
  readonly source: TokenSource;
  readonly generation: number;
  readonly amr: readonly string[];
  /** The session for password logins; a fresh handle otherwise. */
  readonly sessionId?: string;
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

export const newSessionId = () => randomBytes(16).toString('base64url');

/** Issues ES256 access tokens; the signature is made by KMS (one Sign call per token). */
export class TokenIssuer {
  constructor(private readonly signer: TokenSigner, private readonly clock: Clock, private readonly settings: TokenSettings) {}

  async issue(principal: Principal, login: LoginFacts): Promise<TokenResponse> {
    const now = Math.floor(this.clock.now() / 1000);
    const common = {
      amr: login.amr,
      sid: login.sessionId ?? principal.sessionId ?? newSessionId(),
      src: `${login.source.kind}:${login.source.name}`,
      gen: login.generation,
    };
    const claims: CofferClaims =
      principal.kind === 'tenant'
        ? { tid: principal.tenantId, ptype: principal.type, roles: principal.roles, grp: principal.groups ?? [], ...common }
        : { ptype: 'platform', roles: [], grp: [], ...common };
    const header = { alg: 'ES256', typ: 'JWT', kid: await this.signer.keyId() };
    const payload = {
      iss: this.settings.issuer,
      aud: this.settings.audience,
      sub: principal.id,
      iat: now,
      nbf: now,
      exp: now + ACCESS_TOKEN_TTL_SECONDS,
      jti: randomBytes(16).toString('base64url'),
      ...claims,
    };
    const signingInput = `${b64url(header)}.${b64url(payload)}`;
    const signature = await this.signer.sign(Buffer.from(signingInput, 'ascii'));
    return {
      access_token: `${signingInput}.${Buffer.from(signature).toString('base64url')}`,
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_TTL_SECONDS,
    };
  }
}
