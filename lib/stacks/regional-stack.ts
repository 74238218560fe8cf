import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { CofferConfig } from '../config';
import { AuditBucket } from '../constructs/audit-bucket';
import { AUDIT_SIGNING_KEY_ALIAS, SigningKey, TOKEN_SIGNING_KEY_ALIAS } from '../constructs/token-signing-key';
import { VaultApi } from '../constructs/vault-api';
import { VaultFunctions } from '../constructs/vault-functions';
import { VaultTable } from '../constructs/vault-table';

export interface RegionalStackProps extends StackProps {
  readonly config: CofferConfig;
  /** The region this stack serves; must be one of `config.regions`. */
  readonly region: string;
}

/** Everything one region runs: data, keys, audit store, functions and the API in front. */
export class RegionalStack extends Stack {
  readonly table: VaultTable;
  readonly signingKey: SigningKey;
  readonly auditSigningKey: SigningKey;
  readonly audit: AuditBucket;
  readonly functions: VaultFunctions;
  readonly api: VaultApi;

  constructor(scope: Construct, id: string, props: RegionalStackProps) {
    const { config, region } = props;
    if (!config.regions.includes(region)) {
      throw new Error(`RegionalStack: ${region} is not one of ${config.regions.join(', ')}`);
    }
    super(scope, id, {
      ...props,
      env: { account: config.account, region },
      description: `Coffer secrets vault (${config.stage}, ${region})`,
      terminationProtection: props.terminationProtection ?? config.stage === 'prod',
    });

    this.table = new VaultTable(this, 'Data', { tableName: `coffer-${config.stage}` });
    this.signingKey = new SigningKey(this, 'TokenSigning', { alias: TOKEN_SIGNING_KEY_ALIAS, description: 'Coffer access-token signing key (ES256)' });
    this.auditSigningKey = new SigningKey(this, 'AuditSigning', { alias: AUDIT_SIGNING_KEY_ALIAS, description: 'Coffer audit batch signing key' });
    this.audit = new AuditBucket(this, 'Audit');
    this.functions = new VaultFunctions(this, 'Functions', {
      config,
      table: this.table.table,
      signingKey: this.signingKey.key,
      auditBucket: this.audit.bucket,
      auditSigningKey: this.auditSigningKey.key,
    });
    this.api = new VaultApi(this, 'Http', { stage: config.stage, functions: this.functions });

    new CfnOutput(this, 'ApiUrl', { value: this.api.api.url, description: 'Base URL of the regional API' });
    new CfnOutput(this, 'TableName', { value: this.table.table.tableName });
    new CfnOutput(this, 'SigningKeyArn', { value: this.signingKey.key.keyArn });
    new CfnOutput(this, 'AuditBucketName', { value: this.audit.bucket.bucketName });
  }
}
