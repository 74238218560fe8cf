import { randomBytes } from 'node:crypto';

// Lower-case RFC 4648 base32: unambiguous, URL- and DynamoDB-key-safe, no separators used in keys.
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

export function randomBase32(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[bytes[i]! & 31];
  return out;
}

export const TENANT_ID = /^ten_[a-z2-7]{20}$/;
export const CLIENT_ID = /^(?<scope>ten_[a-z2-7]{20}|platform)\.cli_[a-z2-7]{20}$/;

export function newTenantId(): string {
  return `ten_${randomBase32(20)}`;
}

/** The client id names its scope so a login needs no global index. */
export function newClientId(scope: string): string {
  return `${scope}.cli_${randomBase32(20)}`;
}

export function scopeOfClientId(clientId: string): string | undefined {
  return CLIENT_ID.exec(clientId)?.groups?.scope;
}
