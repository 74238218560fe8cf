import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  ScheduleKeyDeletionCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { DependencyUnavailableError, InternalError } from '../../core/errors';
import type { TenantKeyService } from '../../ports/key-service';
import type { RegionalWrap } from '../../ports/tenant-repository';
import { kms } from './errors';
import { MANAGED_KEY_TAG, TENANT_KEY_TAG, tenantEncryptionContext as encryptionContext } from './tenant-key-names';

export const tenantKeyAlias = (tenantId: string) => `alias/coffer/${tenantId}`;

/**
 * Tenant keys in every region. The data key is generated in the primary region and wrapped
 * again under each other region's tenant key (not a multi-Region key), so the standby
 * decrypts with its own key and never calls the primary.
 */
export class KmsTenantKeyService implements TenantKeyService {
  /** `clients`: one KMS client per region; `localRegion`: where this code runs. */
  constructor(
    private readonly clients: ReadonlyMap<string, KMSClient>,
    private readonly primaryRegion: string,
    private readonly localRegion: string,
  ) {
    if (!clients.has(primaryRegion) || !clients.has(localRegion)) throw new InternalError('KMS client missing for a configured region');
  }

  async createTenantKeys(tenantId: string): Promise<Record<string, string>> {
    const keys: Record<string, string> = {};
    try {
      await this.createEach(tenantId, keys);
    } catch (error) {
      // A key made in one region before another failed would be billed forever for nobody.
      await this.discardTenantKeys(tenantId, keys).catch(() => undefined);
      throw error;
    }
    return keys;
  }

  /** Removes the alias and schedules the key's deletion (7 days, the shortest KMS allows). */
  async discardTenantKeys(tenantId: string, keys: Readonly<Record<string, string>>): Promise<void> {
    const failures: unknown[] = [];
    for (const [region, keyArn] of Object.entries(keys)) {
      const client = this.clients.get(region);
      if (!client) continue;
      await client.send(new DeleteAliasCommand({ AliasName: tenantKeyAlias(tenantId) })).catch((error: unknown) => {
        if ((error as { name?: string }).name !== 'NotFoundException') failures.push(error);
      });
      // The bare key id (same account and region): moto 5.2.1 answers 500 to an ARN here.
      const keyId = keyArn.split('/').pop()!;
      await client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 })).catch((error: unknown) => failures.push(error));
    }
    if (failures.length > 0) throw new DependencyUnavailableError('kms', { cause: failures[0] });
  }

  private async createEach(tenantId: string, keys: Record<string, string>): Promise<void> {
    for (const [region, client] of this.clients) {
      const created = await kms(() =>
        client.send(
          new CreateKeyCommand({
            Description: `Coffer tenant ${tenantId}: wraps the tenant's data keys`,
            KeySpec: 'SYMMETRIC_DEFAULT',
            KeyUsage: 'ENCRYPT_DECRYPT',
            Tags: [
              { TagKey: MANAGED_KEY_TAG, TagValue: 'true' },
              { TagKey: TENANT_KEY_TAG, TagValue: tenantId },
            ],
          }),
        ),
      );
      const keyArn = created.KeyMetadata?.Arn;
      if (!keyArn) throw new DependencyUnavailableError('kms');
      keys[region] = keyArn;
      await kms(() => client.send(new CreateAliasCommand({ AliasName: tenantKeyAlias(tenantId), TargetKeyId: keyArn })));
    }
  }

  async generateDataKey(tenantId: string, keys: Readonly<Record<string, string>>) {
    const primaryKey = keys[this.primaryRegion];
    if (!primaryKey) throw new InternalError('tenant has no key in the primary region');
    const generated = await kms(() =>
      this.client(this.primaryRegion).send(
        new GenerateDataKeyCommand({ KeyId: primaryKey, KeySpec: 'AES_256', EncryptionContext: encryptionContext(tenantId) }),
      ),
    );
    const plaintext = generated.Plaintext;
    if (!plaintext || !generated.CiphertextBlob) throw new DependencyUnavailableError('kms');
    const wrapped: Record<string, RegionalWrap> = { [this.primaryRegion]: { keyArn: primaryKey, ciphertext: generated.CiphertextBlob } };
    for (const [region, keyArn] of Object.entries(keys)) {
      if (region === this.primaryRegion) continue;
      const copy = await kms(() =>
        this.client(region).send(new EncryptCommand({ KeyId: keyArn, Plaintext: plaintext, EncryptionContext: encryptionContext(tenantId) })),
      );
      if (!copy.CiphertextBlob) throw new DependencyUnavailableError('kms');
      wrapped[region] = { keyArn, ciphertext: copy.CiphertextBlob };
    }
    return { plaintext, wrapped };
  }

  async unwrapDataKey(tenantId: string, wrapped: Readonly<Record<string, RegionalWrap>>): Promise<Uint8Array> {
    const local = wrapped[this.localRegion];
    if (!local) throw new InternalError(`data key has no copy for region ${this.localRegion}`);
    const result = await kms(() =>
      this.client(this.localRegion).send(
        new DecryptCommand({ KeyId: local.keyArn, CiphertextBlob: local.ciphertext, EncryptionContext: encryptionContext(tenantId) }),
      ),
    );
    if (!result.Plaintext || result.Plaintext.length !== 32) throw new DependencyUnavailableError('kms');
    return result.Plaintext;
  }

  private client(region: string): KMSClient {
    const client = this.clients.get(region);
    if (!client) throw new InternalError(`no KMS client for region ${region}`);
    return client;
  }
}
