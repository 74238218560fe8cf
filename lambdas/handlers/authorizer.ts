import { KMSClient } from '@aws-sdk/client-kms';
import { AccessTokenVerifier } from '../adapters/jwt/access-token-verifier';
import { countCalls } from '../adapters/call-counter';
import { KmsTokenSigner } from '../adapters/kms/token-signer';
import { loadConfig } from '../config';
import { createAuthorizer } from './authorizer-core';

// Only KMS GetPublicKey, once per container: the authorizer bundle stays small.
const config = loadConfig();
const kms = countCalls(new KMSClient({ region: config.region, ...(config.endpoint ? { endpoint: config.endpoint } : {}) }), 'kms');
const signer = new KmsTokenSigner(kms, config.signingKeyId);
const verifier = new AccessTokenVerifier(() => signer.publicJwks(), { issuer: config.issuer, audience: config.audience });

export const handler = createAuthorizer((token) => verifier.verify(token));
