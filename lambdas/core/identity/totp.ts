import { generateSecret, generateURI, verifySync } from 'otplib';
import type { TenantDataKeys } from '../../ports/data-keys';
import { keyVersionOf, open, seal } from '../envelope';

// RFC 6238 TOTP (SHA-1, 6 digits, 30 s), as every authenticator app speaks it. One step
// either side is accepted for clock drift; a step is never accepted twice (the store
// claims it conditionally), so a code seen over a shoulder cannot be replayed.
export const TOTP_PERIOD_SECONDS = 30;

export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

export function otpauthUri(tenantName: string, username: string, secret: string): string {
  return generateURI({ issuer: `Coffer ${tenantName}`, label: username, secret });
}

/** The time step the code belongs to, or undefined when it is wrong or not newer than lastStep. */
export function acceptedStep(secret: string, code: string, nowMs: number, lastStep: number): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const result = verifySync({ secret, token: code, epoch: Math.floor(nowMs / 1000), epochTolerance: TOTP_PERIOD_SECONDS });
  if (!result.valid) return undefined;
  const step = (result as { timeStep: number }).timeStep;
  return step > lastStep ? step : undefined;
}

/** TOTP seeds are secrets: sealed under the tenant's data key, bound to the user. */
export class TotpSeeds {
  constructor(private readonly dataKeys: (tenantId: string) => TenantDataKeys) {}

  async seal(tenantId: string, username: string, secret: string): Promise<string> {
    const { keyVersion, key } = await this.dataKeys(tenantId).current();
    return Buffer.from(seal(key, context(tenantId, username, keyVersion), Buffer.from(secret, 'utf8'))).toString('base64');
  }

  async open(tenantId: string, username: string, sealed: string): Promise<string> {
    const blob = Buffer.from(sealed, 'base64');
    const keyVersion = keyVersionOf(blob);
    const key = await this.dataKeys(tenantId).get(keyVersion);
    return open(key, context(tenantId, username, keyVersion), blob).toString('utf8');
  }
}

// '~' cannot appear in a secret path, so a seed can never be confused with a secret.
const context = (tenantId: string, username: string, keyVersion: number) => ({ tenantId, path: `~totp/${username}`, version: 0, keyVersion });
