import { createHash, randomBytes } from 'node:crypto';
import { TENANT_ID } from '../ids';

// Refresh tokens are opaque to clients; they name tenant and session so a refresh needs
// no global index. Only their SHA-256 is stored (a 256-bit random value needs no salt).
export const REFRESH_WINDOW_MS = 48 * 3600_000;
/** However often it is refreshed, a login ends after this. */
export const SESSION_MAX_MS = 30 * 24 * 3600_000;

const FORMAT = /^crt_(ten_[a-z2-7]{20})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

export function newRefreshToken(tenantId: string, sessionId: string): string {
  return `crt_${tenantId}.${sessionId}.${randomBytes(32).toString('base64url')}`;
}

export function parseRefreshToken(token: string): { tenantId: string; sessionId: string } | undefined {
  const match = FORMAT.exec(token);
  if (!match || !TENANT_ID.test(match[1]!)) return undefined;
  return { tenantId: match[1]!, sessionId: match[2]! };
}

export function refreshTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}
