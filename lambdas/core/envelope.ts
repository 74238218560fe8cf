import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { InternalError } from './errors';

// Every secret value passes through here (Vault's "barrier"). The ciphertext is
// self-describing and versioned so the format can change without a migration:
//   [format 1B][keyVersion u32 BE][iv 12B][tag 16B][ciphertext]
// The AAD binds tenant, path, version and key version: a blob copied to another
// tenant's or path's row, or replayed as another version, fails authentication.
const FORMAT_V1 = 1;
const HEADER_BYTES = 1 + 4 + 12 + 16;

export interface SealContext {
  readonly tenantId: string;
  readonly path: string;
  readonly version: number;
  readonly keyVersion: number;
}

function aad(ctx: SealContext): Buffer {
  return Buffer.from(JSON.stringify(['coffer-secret-v1', ctx.tenantId, ctx.path, ctx.version, ctx.keyVersion]), 'utf8');
}

export function seal(dataKey: Uint8Array, ctx: SealContext, plaintext: Uint8Array): Uint8Array {
  if (dataKey.length !== 32) throw new InternalError('data key must be 256 bits');
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
  cipher.setAAD(aad(ctx));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const header = Buffer.alloc(5);
  header.writeUInt8(FORMAT_V1, 0);
  header.writeUInt32BE(ctx.keyVersion, 1);
  return Buffer.concat([header, iv, cipher.getAuthTag(), body]);
}

/** The key version a blob was sealed under, read from its header (to pick the data key). */
export function keyVersionOf(blob: Uint8Array): number {
  const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (buf.length < HEADER_BYTES || buf.readUInt8(0) !== FORMAT_V1) throw new InternalError('unknown ciphertext format');
  return buf.readUInt32BE(1);
}

export function open(dataKey: Uint8Array, ctx: SealContext, blob: Uint8Array): Buffer {
  const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (keyVersionOf(buf) !== ctx.keyVersion) throw new InternalError('ciphertext key version mismatch');
  const iv = buf.subarray(5, 17);
  const tag = buf.subarray(17, HEADER_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', dataKey, iv);
  decipher.setAAD(aad(ctx));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(buf.subarray(HEADER_BYTES)), decipher.final()]);
  } catch (cause) {
    // Tampered, moved between rows, or wrong key: an integrity failure, never user input.
    throw new InternalError('ciphertext failed authentication', { cause });
  }
}
