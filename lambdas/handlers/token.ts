import { createAwsClients } from '../adapters/aws-clients';
import { DynamoAuditLog } from '../adapters/dynamodb/audit-log';
import { DynamoTenantRepository } from '../adapters/dynamodb/tenant-repository';
import { KmsTokenSigner } from '../adapters/kms/token-signer';
import { loadConfig } from '../config';
import { Authentication } from '../core/authentication';
import { InternalError } from '../core/errors';
import { TokenIssuer } from '../core/tokens';
import { api } from '../http/api';
import { systemClock } from '../ports/clock';
import { tokenRoutes } from './token-routes';

const config = loadConfig();
const aws = createAwsClients(config);
export const auditLog = new DynamoAuditLog(aws.dynamo, config.table);
const kms = aws.kms.get(config.region);
if (!kms) throw new InternalError('no KMS client for this region');
const signer = new KmsTokenSigner(kms, config.signingKeyId);
const issuer = new TokenIssuer(signer, systemClock, { issuer: config.issuer, audience: config.audience });
const authentication = new Authentication(new DynamoTenantRepository(aws.dynamo, config.table), issuer);

export const handler = api(tokenRoutes(authentication, signer), { auditLog, region: config.region });
