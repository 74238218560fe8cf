import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { AccessTokenVerifier } from '../../lambdas/adapters/jwt/access-token-verifier';
import { KmsTokenSigner } from '../../lambdas/adapters/kms/token-signer';
import { UnauthenticatedError } from '../../lambdas/core/errors';
import type { Principal } from '../../lambdas/core/principal';
import { TokenIssuer } from '../../lambdas/core/tokens';

// Token-signing key rotation on real KMS calls (moto): the new key signs, the previous one
// stays in the JWKS and keeps verifying the tokens it signed; a key never listed does not.
// An issuer on a closed loopback port: an unknown kid's JWKS fetch fails here, never leaves the machine.
const settings = { issuer: 'http://127.0.0.1:9', audience: 'coffer' };
const principal: Principal = { kind: 'tenant', tenantId: 'ten_aaaaaaaaaaaaaaaaaaaa', type: 'client', id: 'ten_aaaaaaaaaaaaaaaaaaaa.cli_bbbbbbbbbbbbbbbbbbbb', roles: ['viewer'] };
const login = { source: { kind: 'client' as const, name: principal.id }, generation: 1, amr: ['client_secret'] };
let kms: KMSClient;
let [oldKey, newKey, strangerKey] = ['', '', ''];

const mint = (signer: KmsTokenSigner) => new TokenIssuer(signer, { now: () => Date.now() }, settings).issue(principal, login);
const kidOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;

beforeAll(async () => {
  kms = new KMSClient({ region: 'us-east-1', endpoint: inject('awsEndpoint'), credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  const create = async () => (await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!;
  [oldKey, newKey, strangerKey] = [await create(), await create(), await create()];
});
afterAll(() => kms?.destroy());

describe('token-signing key rotation', () => {
  it('publishes both keys during the rollover, signs with the new one, and verifies tokens of both', async () => {
    const before = new KmsTokenSigner(kms, oldKey);
    const oldToken = (await mint(before)).access_token;

    const after = new KmsTokenSigner(kms, newKey, [oldKey]);
    const jwks = await after.publicJwks();
    expect(jwks.map((k) => k.kid)).toEqual([await after.keyId(), await before.keyId()]);
    const newToken = (await mint(after)).access_token;
    expect(kidOf(newToken)).toBe(await after.keyId());
    expect(kidOf(newToken)).not.toBe(kidOf(oldToken));

    const verifier = new AccessTokenVerifier(() => after.publicJwks(), settings);
    expect((await verifier.verify(oldToken)).principal).toMatchObject({ id: principal.id, roles: ['viewer'] });
    expect((await verifier.verify(newToken)).principal).toMatchObject({ id: principal.id, roles: ['viewer'] });
  });

  it('stops accepting the old key once it leaves the list, and never accepted a key it was not given', async () => {
    const oldToken = (await mint(new KmsTokenSigner(kms, oldKey))).access_token;
    const strangerToken = (await mint(new KmsTokenSigner(kms, strangerKey))).access_token;
    const done = new KmsTokenSigner(kms, newKey);
    const verifier = new AccessTokenVerifier(() => done.publicJwks(), settings);
    expect((await done.publicJwks()).map((k) => k.kid)).toEqual([await done.keyId()]);
    await expect(verifier.verify(oldToken)).rejects.toBeInstanceOf(UnauthenticatedError);
    const during = new AccessTokenVerifier(() => new KmsTokenSigner(kms, newKey, [oldKey]).publicJwks(), settings);
    await expect(during.verify(strangerToken)).rejects.toBeInstanceOf(UnauthenticatedError);
  });
});
