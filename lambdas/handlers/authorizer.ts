import { dynamoClient, kmsClient } from '../adapters/aws-clients';
import { DynamoAuditLog } from '../adapters/dynamodb/audit-log';
import { DynamoTokenState } from '../adapters/dynamodb/token-state';
import { AccessTokenVerifier } from '../adapters/jwt/access-token-verifier';
import { KmsTokenSigner } from '../adapters/kms/token-signer';
import { loadConfig } from '../config';
import { currentPrincipal } from '../core/identity/token-check';
import { createAuthorizer } from './authorizer-core';

// KMS GetPublicKey once per container; one DynamoDB BatchGetItem per check (the record
// that minted the token, its session, its groups); a PutItem for each refused token.
const config = loadConfig();
// Verify-only keys: retired ones and the other region's (a token outlives a failover).
const verifyOnly = [...config.previousSigningKeyIds, ...config.peerSigningKeyIds];
const kms = kmsClient(config);
const signer = new KmsTokenSigner(kms, config.signingKeyId, verifyOnly, (region) => (region === config.region ? kms : kmsClient(config, region)));
const verifier = new AccessTokenVerifier(() => signer.publicJwks(), { issuer: config.issuer, audience: config.audience });
const dynamo = dynamoClient(config);
export const auditLog = new DynamoAuditLog(dynamo, config.table);
const tokenState = new DynamoTokenState(dynamo, config.table);

export const handler = createAuthorizer(async (token) => currentPrincipal(await verifier.verify(token), tokenState), {
  log: auditLog,
  region: config.region,
});
