import { JwtVerifier } from 'aws-jwt-verify';
import type { FederatedTokenVerifier } from '../../core/authentication';
import { UnauthenticatedError } from '../../core/errors';
import type { IssuerRecord } from '../../ports/identity';
import { logger } from '../../http/logger';

type Verifier = ReturnType<typeof JwtVerifier.create>;

/**
 * External OIDC tokens, verified with aws-jwt-verify against the issuer's JWKS (fetched
 * on first use of a kid, then cached per container). Asymmetric algorithms only: `none`
 * and HS256 (a public key used as an HMAC secret) are refused by the library.
 */
export class JwksFederatedVerifier implements FederatedTokenVerifier {
  private readonly verifiers = new Map<string, Verifier>();

  async verify(issuer: IssuerRecord, assertion: string): Promise<Record<string, unknown>> {
    // One verifier (and JWKS cache) per issuer record version: an edit starts afresh.
    const cacheKey = `${issuer.tenantId}/${issuer.name}/${issuer.rev}`;
    let verifier = this.verifiers.get(cacheKey);
    if (!verifier) {
      verifier = JwtVerifier.create({ issuer: issuer.issuer, audience: [...issuer.audiences], jwksUri: issuer.jwksUri });
      if (this.verifiers.size > 200) this.verifiers.clear();
      this.verifiers.set(cacheKey, verifier);
    }
    try {
      return (await verifier.verify(assertion)) as Record<string, unknown>;
    } catch (error) {
      const name = (error as Error)?.name ?? 'Error';
      if (/Fetch|Jwks|NonRetryable/i.test(name)) logger.warn('trusted issuer JWKS unavailable', { issuer: issuer.name, error: name });
      throw new UnauthenticatedError();
    }
  }
}
