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
  private previous?: Promise<SigningKey[]>;

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

  async publicJwks(): Promise<PublicJwk[]> {
    this.previous ??= Promise.all(this.previousKeyIds.map((id) => this.load(id))).catch((error) => {
      this.previous = undefined;
      throw error;
    });
    const [current, previous] = await Promise.all([this.key(), this.previous]);
    return [current.jwk, ...previous.map((k) => k.jwk).filter((jwk) => jwk.kid !== current.jwk.kid)];
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
