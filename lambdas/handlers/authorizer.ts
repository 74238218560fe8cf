import { KMSClient } from '@aws-sdk/client-kms';
import { countCalls } from '../adapters/call-counter';
import { createDocumentClient } from '../adapters/dynamodb/client';
import { DynamoAuditLog } from '../adapters/dynamodb/audit-log';
import { AccessTokenVerifier } from '../adapters/jwt/access-token-verifier';
import { KmsTokenSigner } from '../adapters/kms/token-signer';
import { loadConfig } from '../config';
import { createAuthorizer } from './authorizer-core';

// KMS GetPublicKey once per container; DynamoDB only to record refused tokens.
const config = loadConfig();
const endpoint = config.endpoint ? { endpoint: config.endpoint } : {};
const kms = countCalls(new KMSClient({ region: config.region, ...endpoint }), 'kms');
const signer = new KmsTokenSigner(kms, config.signingKeyId);
const verifier = new AccessTokenVerifier(() => signer.publicJwks(), { issuer: config.issuer, audience: config.audience });
export const auditLog = new DynamoAuditLog(countCalls(createDocumentClient({ region: config.region, ...endpoint, maxAttempts: 3 }), 'dynamodb'), config.table);

export const handler = createAuthorizer((token) => verifier.verify(token), { log: auditLog, region: config.region });
