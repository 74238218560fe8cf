import { createAwsClients } from '../adapters/aws-clients';
import { DynamoAuditLog } from '../adapters/dynamodb/audit-log';
import { DynamoIdentityRecords } from '../adapters/dynamodb/identity-records';
import { DynamoLoginBookkeeping } from '../adapters/dynamodb/login-bookkeeping';
import { DynamoSessionStore } from '../adapters/dynamodb/sessions';
import { DynamoTenantRepository } from '../adapters/dynamodb/tenant-repository';
import { JwksFederatedVerifier } from '../adapters/jwt/federated-verifier';
import { KmsTenantKeyService } from '../adapters/kms/tenant-key-service';
import { KmsTokenSigner } from '../adapters/kms/token-signer';
import { StsCallerIdentity } from '../adapters/sts/caller-identity';
import { loadConfig } from '../config';
import { Authentication } from '../core/authentication';
import { DataKeyRing } from '../core/data-keys';
import { InternalError } from '../core/errors';
import { TotpSeeds } from '../core/identity/totp';
import { TokenIssuer } from '../core/tokens';
import { api } from '../http/api';
import { systemClock } from '../ports/clock';
import { tokenRoutes } from './token-routes';

// Composition root of the token function. KMS: one Sign per token; a Decrypt of the
// tenant data key only for a TOTP user's first login in this container (then cached).
const config = loadConfig();
const aws = createAwsClients(config);
export const auditLog = new DynamoAuditLog(aws.dynamo, config.table);
const kms = aws.kms.get(config.region);
if (!kms) throw new InternalError('no KMS client for this region');
// The JWKS publishes retired keys and the other region's, so either region's tokens verify anywhere.
const verifyOnly = [...config.previousSigningKeyIds, ...config.peerSigningKeyIds];
const signer = new KmsTokenSigner(kms, config.signingKeyId, verifyOnly, (region) => aws.kms.get(region) ?? kms);
const issuer = new TokenIssuer(signer, systemClock, { issuer: config.issuer, audience: config.audience });
const tenants = new DynamoTenantRepository(aws.dynamo, config.table);
const dataKeys = new DataKeyRing(tenants, new KmsTenantKeyService(aws.kms, config.primaryRegion, config.region), systemClock, config.dataKeyTtlMs);

export const authentication = new Authentication({
  clients: tenants,
  records: new DynamoIdentityRecords(aws.dynamo, config.table, auditLog),
  logins: new DynamoLoginBookkeeping(aws.dynamo, config.table),
  sessions: new DynamoSessionStore(aws.dynamo, config.table),
  tokens: issuer,
  clock: systemClock,
  totp: new TotpSeeds((tenantId) => dataKeys.forTenant(tenantId)),
  sts: new StsCallerIdentity(),
  ...(config.localStsHost ? { extraStsHosts: [config.localStsHost] } : {}),
  federation: new JwksFederatedVerifier({ allowLoopback: config.allowLoopbackSinks }),
});

export const handler = api(tokenRoutes(authentication, signer), { auditLog, region: config.region });
