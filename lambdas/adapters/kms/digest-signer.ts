import { SignCommand, VerifyCommand, type KMSClient, type SigningAlgorithmSpec } from '@aws-sdk/client-kms';
import { DependencyUnavailableError } from '../../core/errors';
import type { DigestSigner } from '../../ports/audit-archive';
import { kms } from './errors';

const ALGORITHM: SigningAlgorithmSpec = 'ECDSA_SHA_256';

/** Batch digests signed by the audit key (ECC P-256); only the shipper may use it. */
export class KmsDigestSigner implements DigestSigner {
  constructor(private readonly client: KMSClient, private readonly keyId: string) {}

  async sign(message: Uint8Array) {
    const result = await kms(() =>
      this.client.send(new SignCommand({ KeyId: this.keyId, Message: message, MessageType: 'RAW', SigningAlgorithm: ALGORITHM })),
    );
    if (!result.Signature || !result.KeyId) throw new DependencyUnavailableError('kms');
    return { signature: result.Signature, keyId: result.KeyId, algorithm: ALGORITHM };
  }

  /**
   * Checks against the configured audit key only. A digest names the key that signed it,
   * but that name is the forger's to choose: a batch signed with any other key is refused.
   */
  async verify(message: Uint8Array, signature: Uint8Array, _claimedKeyId: string, algorithm: string): Promise<boolean> {
    if (algorithm !== ALGORITHM) return false;
    try {
      const result = await this.client.send(
        new VerifyCommand({ KeyId: this.keyId, Message: message, MessageType: 'RAW', Signature: signature, SigningAlgorithm: ALGORITHM }),
      );
      return result.SignatureValid === true;
    } catch (error) {
      // KMS answers an invalid signature with KMSInvalidSignatureException.
      if ((error as { name?: string }).name === 'KMSInvalidSignatureException') return false;
      throw new DependencyUnavailableError('kms', { cause: error });
    }
  }
}
