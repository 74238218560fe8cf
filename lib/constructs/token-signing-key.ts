import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export const TOKEN_SIGNING_KEY_ALIAS = 'alias/coffer/token-signing';

export const AUDIT_SIGNING_KEY_ALIAS = 'alias/coffer/audit-signing';

export interface SigningKeyProps {
  readonly alias: string;
  readonly description: string;
}

/**
 * An ECC P-256 signing key whose private half never leaves KMS: one signs access tokens
 * (ES256), another signs archived audit batches, so neither holder can forge the other's.
 */
export class SigningKey extends Construct {
  readonly key: Key;

  constructor(scope: Construct, id: string, props: SigningKeyProps) {
    super(scope, id);

    this.key = new Key(this, 'Key', {
      description: props.description,
      keySpec: KeySpec.ECC_NIST_P256,
      keyUsage: KeyUsage.SIGN_VERIFY,
      alias: props.alias,
      // Deleting it would invalidate every token or archived digest: keep it, with a long undo window.
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });
  }
}
