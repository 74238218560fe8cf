import { JwtVerifier } from 'aws-jwt-verify';
import type { Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { FederatedTokenVerifier } from '../../core/authentication';
import { UnauthenticatedError } from '../../core/errors';
import type { IssuerRecord } from '../../ports/identity';
import { logger } from '../../http/logger';
import { boundedGet } from '../net/checked-address';

type Verifier = ReturnType<typeof JwtVerifier.create>;

/**
 * External OIDC tokens, verified with aws-jwt-verify against the issuer's JWKS (fetched
 * on first use of a kid, then cached per container). Asymmetric algorithms only: `none`
 * and HS256 (a public key used as an HMAC secret) are refused by the library.
 */
export class JwksFederatedVerifier implements FederatedTokenVerifier {
  private readonly verifiers = new Map<string, Verifier>();
  private readonly jwksCache: SimpleJwksCache;

  constructor(options: { allowLoopback: boolean }) {
    this.jwksCache = new SimpleJwksCache({ fetcher: new BoundedFetcher(options.allowLoopback) });
  }

  async verify(issuer: IssuerRecord, assertion: string): Promise<Record<string, unknown>> {
    // One verifier (and JWKS cache) per issuer record version: an edit starts afresh.
    const cacheKey = `${issuer.tenantId}/${issuer.name}/${issuer.rev}`;
    let verifier = this.verifiers.get(cacheKey);
    if (!verifier) {
      verifier = JwtVerifier.create({ issuer: issuer.issuer, audience: [...issuer.audiences], jwksUri: issuer.jwksUri }, { jwksCache: this.jwksCache });
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

const MAX_JWKS_BYTES = 64 * 1024;

/**
 * Fetches a JWKS: https only (plain http to loopback on the local runtime), no redirects,
 * 3 s and 64 KiB at most (counted as it streams), and only from a public address checked
 * when connecting, so a slow, huge or internal "issuer" cannot stall, flood or probe.
 */
class BoundedFetcher implements Fetcher {
  constructor(private readonly allowLoopback: boolean) {}

  async fetch(uri: string): Promise<ArrayBuffer> {
    const url = new URL(uri);
    const loopback = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(url.hostname);
    if (url.protocol !== 'https:' && !(this.allowLoopback && loopback && url.protocol === 'http:')) throw new Error('JWKS must be fetched over https');
    const body = await boundedGet(url, { allowLoopback: this.allowLoopback, maxBytes: MAX_JWKS_BYTES, timeoutMs: 3000, accept: 'application/json' });
    return body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
  }
}
