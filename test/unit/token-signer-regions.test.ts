import { generateKeyPairSync } from 'node:crypto';
import { GetPublicKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { describe, expect, it, vi } from 'vitest';
import { KmsTokenSigner, VERIFY_KEY_RETRY_MS } from '../../lambdas/adapters/kms/token-signer';

// Each region signs with its own KMS key and publishes the other's (DESIGN.md, "Regions and
// failover"). KMS answers only in a key's own region: the peer key must be read there.

const WEST_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-1111-4111-8111-111111111111';
const CENTRAL_ALIAS = 'arn:aws:kms:eu-central-1:123456789012:alias/coffer/token-signing';
const CENTRAL_KEY = 'arn:aws:kms:eu-central-1:123456789012:key/22222222-2222-4222-8222-222222222222';

/** A KMS client of one region that knows one key; it records the key ids it was asked for. */
function regionalKms(keyArn: string, aliases: readonly string[] = []) {
  const asked: string[] = [];
  const publicKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'der', type: 'spki' });
  const client = {
    send: async (command: GetPublicKeyCommand) => {
      const keyId = command.input.KeyId!;
      asked.push(keyId);
      if (keyId !== keyArn && !aliases.includes(keyId)) throw Object.assign(new Error('Invalid keyId'), { name: 'NotFoundException' });
      return { KeyId: keyArn, PublicKey: new Uint8Array(publicKey) };
    },
  } as unknown as KMSClient;
  return { client, asked };
}

describe('KmsTokenSigner across regions', () => {
  it("publishes the other region's key, read from that region's KMS, next to its own", async () => {
    const west = regionalKms(WEST_KEY);
    const central = regionalKms(CENTRAL_KEY, [CENTRAL_ALIAS]);
    const clients: Record<string, KMSClient> = { 'eu-west-1': west.client, 'eu-central-1': central.client };
    const signer = new KmsTokenSigner(west.client, WEST_KEY, [CENTRAL_ALIAS], (region) => clients[region]!);

    const jwks = await signer.publicJwks();

    expect(jwks).toHaveLength(2);
    expect(new Set(jwks.map((jwk) => jwk.kid)).size).toBe(2);
    expect(jwks[0]!.kid).toBe(await signer.keyId());
    expect(west.asked).toEqual([WEST_KEY]);
    expect(central.asked).toEqual([CENTRAL_ALIAS]);
  });

  it('reads bare key ids and alias names (the local runtime) with its own client', async () => {
    const local = regionalKms(WEST_KEY, ['alias/coffer/token-signing']);
    const signer = new KmsTokenSigner(local.client, 'alias/coffer/token-signing', [], () => {
      throw new Error('no other region');
    });

    expect(await signer.publicJwks()).toHaveLength(1);
  });

  it("keeps verifying its own region's tokens while the other region's KMS is down, and picks the peer key up later", async () => {
    const west = regionalKms(WEST_KEY);
    let centralDown = true;
    const central = regionalKms(CENTRAL_KEY, [CENTRAL_ALIAS]);
    const down = { send: async (command: GetPublicKeyCommand) => {
      if (centralDown) throw Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' });
      return central.client.send(command);
    } } as unknown as KMSClient;
    const signer = new KmsTokenSigner(west.client, WEST_KEY, [CENTRAL_ALIAS], (region) => (region === 'eu-west-1' ? west.client : down));

    const during = await signer.publicJwks();
    expect(during).toHaveLength(1);
    expect(during[0]!.kid).toBe(await signer.keyId());

    centralDown = false;
    expect(await signer.publicJwks()).toHaveLength(1); // not retried at once: an outage is not hammered
    vi.useFakeTimers({ now: Date.now() + VERIFY_KEY_RETRY_MS + 1, toFake: ['Date'] });
    try {
      expect(await signer.publicJwks()).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });
});
