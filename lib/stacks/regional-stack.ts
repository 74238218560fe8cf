import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { CfnBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { type CofferConfig, peerRegion, regionalApiDomain } from '../config';
import { AlarmTopic } from '../constructs/alarm-topic';
import { ApiDomain } from '../constructs/api-domain';
import { ArchiveReplication } from '../constructs/archive-replication';
import { AuditBucket } from '../constructs/audit-bucket';
import { DeployTimeCalls } from '../constructs/deploy-time-calls';
import { RegionalMonitoring } from '../constructs/regional-monitoring';
import { StandbyTable } from '../constructs/standby-table';
import { TenantAccessRole } from '../constructs/tenant-access-role';
import { AUDIT_SIGNING_KEY_ALIAS, SigningKey, TOKEN_SIGNING_KEY_ALIAS } from '../constructs/token-signing-key';
import { VaultApi } from '../constructs/vault-api';
import { VaultFunctions } from '../constructs/vault-functions';
import { VaultTable } from '../constructs/vault-table';
import { ApiWebAcl } from '../constructs/web-acl';
import { auditBucketName, tableName } from '../naming';

export interface RegionalStackProps extends StackProps {
  readonly config: CofferConfig;
  /** The region this stack serves; must be one of `config.regions`. */
  readonly region: string;
}

/**
 * Everything one region runs: data, keys, audit store, functions and the API in front.
 * The primary's stack owns the global table (with the standby's replica); the standby's
 * stack, deployed after it, uses that replica and sets up the archive replication both ways.
 */
export class RegionalStack extends Stack {
  readonly isPrimary: boolean;
  readonly table: ITableV2;
  readonly signingKey: SigningKey;
  readonly auditSigningKey: SigningKey;
  readonly audit: AuditBucket;
  readonly functions: VaultFunctions;
  readonly tenantAccess: TenantAccessRole;
  readonly api: VaultApi;
  readonly domain: ApiDomain;
  readonly webAcl: ApiWebAcl;
  readonly monitoring: RegionalMonitoring;

  constructor(scope: Construct, id: string, props: RegionalStackProps) {
    const { config, region } = props;
    if (!config.regions.includes(region)) {
      throw new Error(`RegionalStack: ${region} is not one of ${config.regions.join(', ')}`);
    }
    const isPrimary = region === config.primaryRegion;
    super(scope, id, {
      ...props,
      env: { account: config.account, region },
      description: `Coffer secrets vault (${config.stage}, ${region}, ${isPrimary ? 'primary' : 'standby'})`,
      terminationProtection: props.terminationProtection ?? config.stage === 'prod',
    });
    this.isPrimary = isPrimary;
    const peer = peerRegion(config, region);
    const calls = isPrimary ? undefined : new DeployTimeCalls(this, 'DeployTimeCalls');

    this.table = isPrimary
      ? new VaultTable(this, 'Data', { tableName: tableName(config.stage), replicaRegions: [peer] }).table
      : new StandbyTable(this, 'Data', { tableName: tableName(config.stage), calls: calls! }).table;
    // Per region: each region signs its own tokens; the other region's key is trusted by alias.
    this.signingKey = new SigningKey(this, 'TokenSigning', { alias: TOKEN_SIGNING_KEY_ALIAS, description: 'Coffer access-token signing key (ES256)' });
    this.auditSigningKey = new SigningKey(this, 'AuditSigning', { alias: AUDIT_SIGNING_KEY_ALIAS, description: 'Coffer audit batch signing key' });
    this.audit = new AuditBucket(this, 'Audit', { bucketName: auditBucketName(config.stage, region) });
    if (calls) this.replicateArchives(config, region, peer, calls);

    this.functions = new VaultFunctions(this, 'Functions', {
      config,
      table: this.table,
      signingKey: this.signingKey.key,
      auditBucket: this.audit.bucket,
      auditArchiveKey: this.audit.key,
      auditSigningKey: this.auditSigningKey.key,
      peerRegion: peer,
    });
    // The functions that serve one tenant's requests; not the platform ones (tenants,
    // authorizer, health, shipper), which work across tenants.
    const { secrets, audit, identity } = this.functions;
    this.tenantAccess = new TenantAccessRole(this, 'TenantAccess', { table: this.table, regions: config.regions, assumers: [secrets, audit, identity] });
    this.api = new VaultApi(this, 'Http', { stage: config.stage, functions: this.functions });
    this.domain = new ApiDomain(this, 'Domain', { config, region, api: this.api.api });
    this.webAcl = new ApiWebAcl(this, 'Waf', { stage: this.api.api.deploymentStage });
    this.monitoring = new RegionalMonitoring(this, 'Monitoring', {
      stage: config.stage,
      region,
      peerRegion: peer,
      tableName: tableName(config.stage),
      api: this.api.api,
      functions: this.functions,
      topic: new AlarmTopic(this, 'Alarms', { email: config.alarmEmail, topicName: `coffer-${config.stage}-${region}-alarms` }),
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.api.url, description: 'Base URL of the regional API' });
    new CfnOutput(this, 'RegionalApiUrl', { value: `https://${regionalApiDomain(config, region)}/`, description: 'This region alone, on its custom domain' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'SigningKeyArn', { value: this.signingKey.key.keyArn });
    new CfnOutput(this, 'AuditBucketName', { value: this.audit.bucket.bucketName });
    new CfnOutput(this, 'TenantAccessRoleArn', { value: this.tenantAccess.role.roleArn, description: "Assumed per tenant with the TenantId session tag by the functions serving tenants' requests" });
  }

  /**
   * Both directions, from the stack deployed second: by then both archives exist, which S3
   * requires of a replication rule's destination.
   */
  private replicateArchives(config: CofferConfig, region: string, peer: string, calls: DeployTimeCalls): void {
    new ArchiveReplication(this, 'ArchiveToPeer', { stage: config.stage, from: region, to: peer }).applyTo(
      this.audit.bucket.node.defaultChild as CfnBucket,
    );
    new ArchiveReplication(this, 'PeerArchiveHere', { stage: config.stage, from: peer, to: region }).applyToPeer(calls);
  }
}
