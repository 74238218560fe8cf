import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import { DependencyUnavailableError, InternalError } from '../../core/errors';
import { TENANT_ID } from '../../core/ids';
import type { Clock } from '../../ports/clock';
import { recentlyUsed } from '../recently-used';

// Token vending (the AWS SaaS Builder Toolkit pattern): the one place that mints a tenant's
// credentials. Each is a session of the tenant-access role (lib/constructs/tenant-access-role.ts)
// tagged with the tenant of the verified token; the role's policy reads the tag back and
// confines the session to that tenant's partitions and KMS context. The credentials stay in
// this container's memory: never in the authorizer context (it is logged), never logged.

/** The STS session tag the tenant-access role requires and its policy reads back. */
export const TENANT_SESSION_TAG = 'TenantId';

/** Role chaining (a Lambda role assuming another) caps a session at one hour. */
export const TENANT_SESSION_SECONDS = 3600;
/**
 * Renewed when less than this is left. The SDK asks its credential provider again 5 minutes
 * before expiry, so this must exceed that or it would be handed the old session back.
 */
export const TENANT_SESSION_RENEW_BEFORE_MS = 10 * 60_000;
/**
 * Sessions kept per container (about 1 KB each); the least recently minted goes first past
 * this. More than the clients kept (aws-clients.ts), so a client rebuilt for a tenant
 * finds its session still here.
 */
export const TENANT_SESSIONS_KEPT = 1000;
/** A renewal that failed is tried again after this, while the old session lasts. */
export const TENANT_SESSION_RETRY_MS = 5_000;
/** An old session still this far from expiry serves on when its renewal fails. */
const STILL_USABLE_MS = 60_000;

export interface TenantCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

export class TenantSessions {
  /** Per tenant: the session, or the AssumeRole in flight (concurrent requests share it). */
  private readonly held = new Map<string, Promise<TenantCredentials>>();
  /** Tenants whose renewal failed: not before this (epoch ms) again. */
  private readonly renewalRetryAt = new Map<string, number>();

  constructor(
    private readonly sts: STSClient,
    private readonly roleArn: string,
    private readonly clock: Clock,
  ) {}

  /** A credential provider for one tenant's SDK clients. */
  provider(tenantId: string): () => Promise<TenantCredentials> {
    return () => this.credentials(tenantId);
  }

  async credentials(tenantId: string): Promise<TenantCredentials> {
    // The trust policy checks the tag's shape too; this catches our own bug first.
    if (!TENANT_ID.test(tenantId)) throw new InternalError('a tenant session was asked for something that is not a tenant id');
    const held = this.held.get(tenantId);
    let previous: TenantCredentials | undefined;
    if (held) {
      recentlyUsed(this.held, tenantId, () => held, TENANT_SESSIONS_KEPT);
      previous = await held; // an AssumeRole that failed fails every request that shared it
      const left = previous.expiration.getTime() - this.clock.now();
      if (left > TENANT_SESSION_RENEW_BEFORE_MS) return previous;
      const renewed = this.held.get(tenantId);
      if (renewed && renewed !== held) return renewed; // another request is renewing it already
      if (left > STILL_USABLE_MS && this.clock.now() < (this.renewalRetryAt.get(tenantId) ?? 0)) return previous;
    }
    const usable = previous;
    const minted = this.assume(tenantId).then(
      (credentials) => {
        this.renewalRetryAt.delete(tenantId);
        return credentials;
      },
      (error: unknown) => {
        // STS blinked while the old session still works: it serves on (for every request
        // sharing this renewal), and renewal is tried again in a few seconds.
        if (usable && usable.expiration.getTime() - this.clock.now() > STILL_USABLE_MS) {
          this.renewalRetryAt.set(tenantId, this.clock.now() + TENANT_SESSION_RETRY_MS);
          return usable;
        }
        throw error;
      },
    );
    this.held.delete(tenantId);
    recentlyUsed(this.held, tenantId, () => minted, TENANT_SESSIONS_KEPT);
    // A failure is not kept: the next request tries again.
    minted.catch(() => {
      if (this.held.get(tenantId) === minted) this.held.delete(tenantId);
    });
    return minted;
  }

  private async assume(tenantId: string): Promise<TenantCredentials> {
    let answer;
    try {
      answer = await this.sts.send(
        new AssumeRoleCommand({
          RoleArn: this.roleArn,
          // CloudTrail names the tenant of every call made with the session.
          RoleSessionName: `coffer-${tenantId}`,
          Tags: [{ Key: TENANT_SESSION_TAG, Value: tenantId }],
          DurationSeconds: TENANT_SESSION_SECONDS,
        }),
      );
    } catch (error) {
      throw new DependencyUnavailableError('sts', { cause: error });
    }
    const c = answer?.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
      throw new DependencyUnavailableError('sts', { cause: new Error('AssumeRole answered without credentials') });
    }
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
  }
}
