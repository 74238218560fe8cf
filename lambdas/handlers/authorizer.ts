import { KMSClient } from '@aws-sdk/client-kms';
import { countCalls } from '../adapters/call-counter';
import { createDocumentClient } from '../adapters/dynamodb/client';
import { DynamoAuditLog } from '../adapters/dynamodb/audit-log';
import { DynamoIdentityStore } from '../adapters/dynamodb/identity-store';
import { AccessTokenVerifier } from '../adapters/jwt/access-token-verifier';
import { KmsTokenSigner } from '../adapters/kms/token-signer';
import { loadConfig } from '../config';
import { currentPrincipal } from '../core/identity/token-check';
import { createAuthorizer } from './authorizer-core';

// KMS GetPublicKey once per container; one DynamoDB BatchGetItem per check (the record
// that minted the token, its session, its groups); a PutItem for each refused token.
const config = loadConfig();
const endpoint = config.endpoint ? { endpoint: config.endpoint } : {};
const dynamodbEndpoint = config.dynamodbEndpoint ? { endpoint: config.dynamodbEndpoint } : endpoint;
const kms = countCalls(new KMSClient({ region: config.region, ...endpoint }), 'kms');
const signer = new KmsTokenSigner(kms, config.signingKeyId, config.previousSigningKeyIds);
const verifier = new AccessTokenVerifier(() => signer.publicJwks(), { issuer: config.issuer, audience: config.audience });
const dynamo = countCalls(createDocumentClient({ region: config.region, ...dynamodbEndpoint, maxAttempts: 3 }), 'dynamodb');
export const auditLog = new DynamoAuditLog(dynamo, config.table);
const identities = new DynamoIdentityStore(dynamo, config.table);

export const handler = createAuthorizer(async (token) => currentPrincipal(await verifier.verify(token), identities), {
  log: auditLog,
  region: config.region,
});
