import { createHash, createPublicKey } from 'node:crypto';
import { GetPublicKeyCommand, SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import { DependencyUnavailableError } from '../../core/errors';
import type { PublicJwk, TokenSigner } from '../../ports/key-service';
import { derToJose } from './der';
import { kms } from './errors';

interface SigningKey {
  readonly keyArn: string;
  readonly jwk: PublicJwk;
}

/** How soon a verify-only key that could not be read is tried again. */
export const VERIFY_KEY_RETRY_MS = 30_000;

/** The region an ARN names (`arn:aws:kms:<region>:…`); undefined for a bare id or alias name. */
const regionOfArn = (keyId: string) => /^arn:aws[a-z-]*:kms:([a-z0-9-]+):/.exec(keyId)?.[1];

/**
 * ES256 with a KMS ECC_NIST_P256 key; public halves are fetched once per container.
 * Rotation: a new key signs while the previous ones stay in the JWKS (and verify) until
 * every token they signed has expired (one hour). The verify-only keys include the other
 * region's signing key, so a token survives a failover; KMS answers only in a key's own
 * region, so an ARN naming another region is read with `clientFor(region)`.
 */
export class KmsTokenSigner implements TokenSigner {
  private signingKey?: Promise<SigningKey>;
  /** Verify-only keys, each on its own: one that cannot be read must not take the rest down. */
  private readonly verifyOnly = new Map<string, { key?: SigningKey; loading?: Promise<void>; failedAt?: number }>();

  constructor(
    private readonly client: KMSClient,
    private readonly keyId_: string,
    private readonly previousKeyIds: readonly string[] = [],
    private readonly clientFor: (region: string) => KMSClient = () => client,
  ) {}

  async keyId(): Promise<string> {
    return (await this.key()).jwk.kid;
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    const { keyArn } = await this.key();
    const result = await kms(() =>
      this.client.send(new SignCommand({ KeyId: keyArn, Message: message, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' })),
    );
    if (!result.Signature) throw new DependencyUnavailableError('kms');
    return derToJose(result.Signature);
  }

  /**
   * This region's key (required: without it nothing verifies) and every verify-only key that
   * could be read. The other region's KMS is unreachable exactly when that region is down:
   * its key is then left out and tried again VERIFY_KEY_RETRY_MS later, while this region's
   * own tokens keep verifying. (A container that read it before keeps it.)
   */
  async publicJwks(): Promise<PublicJwk[]> {
    const now = Date.now();
    const loads = this.previousKeyIds.map((id) => {
      const entry = this.verifyOnly.get(id) ?? {};
      this.verifyOnly.set(id, entry);
      if (entry.key || entry.loading || (entry.failedAt !== undefined && now - entry.failedAt < VERIFY_KEY_RETRY_MS)) return entry.loading;
      entry.loading = this.load(id).then(
        (key) => void Object.assign(entry, { key, loading: undefined, failedAt: undefined }),
        () => void Object.assign(entry, { loading: undefined, failedAt: Date.now() }),
      );
      return entry.loading;
    });
    const [current] = await Promise.all([this.key(), ...loads]);
    const others = this.previousKeyIds.flatMap((id) => this.verifyOnly.get(id)?.key ?? []);
    return [current.jwk, ...others.map((k) => k.jwk).filter((jwk) => jwk.kid !== current.jwk.kid)];
  }

  private key(): Promise<SigningKey> {
    this.signingKey ??= this.load(this.keyId_).catch((error) => {
      this.signingKey = undefined; // a cold-start outage must not poison the container
      throw error;
    });
    return this.signingKey;
  }

  private async load(keyId: string): Promise<SigningKey> {
    const region = regionOfArn(keyId);
    const client = region === undefined ? this.client : this.clientFor(region);
    const result = await kms(() => client.send(new GetPublicKeyCommand({ KeyId: keyId })));
    if (!result.PublicKey || !result.KeyId) throw new DependencyUnavailableError('kms');
    const jwk = createPublicKey({ key: Buffer.from(result.PublicKey), format: 'der', type: 'spki' }).export({ format: 'jwk' });
    // The kid names the key without publishing its ARN (account id, region).
    const kid = createHash('sha256').update(result.KeyId).digest('base64url').slice(0, 16);
    return { keyArn: result.KeyId, jwk: { kty: 'EC', crv: 'P-256', x: jwk.x!, y: jwk.y!, kid, alg: 'ES256', use: 'sig' } };
  }
}
