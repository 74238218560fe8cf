import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export const TOKEN_SIGNING_KEY_ALIAS = 'alias/coffer/token-signing';

/** The ES256 key that signs access tokens; the private half never leaves KMS. */
export class TokenSigningKey extends Construct {
  readonly key: Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    this.key = new Key(this, 'Key', {
      description: 'Coffer access-token signing key (ES256)',
      keySpec: KeySpec.ECC_NIST_P256,
      keyUsage: KeyUsage.SIGN_VERIFY,
      alias: TOKEN_SIGNING_KEY_ALIAS,
      // Deleting it would invalidate every issued token: keep it, and give a long undo window.
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });
  }
}
