import type { RegionalWrap } from './tenant-repository';

/** Per-tenant envelope keys (KMS). Every call carries the tenant as encryption context. */
export interface TenantKeyService {
  /** Creates the tenant's key (alias coffer/<tenantId>) in every region; region → key ARN. */
  createTenantKeys(tenantId: string): Promise<Record<string, string>>;
  /** Undoes createTenantKeys (alias removed, key scheduled for deletion) for a tenant never created. */
  discardTenantKeys(tenantId: string, keys: Readonly<Record<string, string>>): Promise<void>;
  /** A fresh AES-256 data key and its wrap under each region's tenant key. */
  generateDataKey(tenantId: string, keys: Readonly<Record<string, string>>): Promise<{ plaintext: Uint8Array; wrapped: Record<string, RegionalWrap> }>;
  /** Unwraps this region's copy. */
  unwrapDataKey(tenantId: string, wrapped: Readonly<Record<string, RegionalWrap>>): Promise<Uint8Array>;
}

export interface PublicJwk {
  readonly kty: 'EC';
  readonly crv: 'P-256';
  readonly x: string;
  readonly y: string;
  readonly kid: string;
  readonly alg: 'ES256';
  readonly use: 'sig';
}

/** Signs access tokens with a key that never leaves KMS. */
export interface TokenSigner {
  /** The `kid` of the key that signs now. */
  keyId(): Promise<string>;
  /** ES256 signature of `message` in JWS form (r‖s, 64 bytes). */
  sign(message: Uint8Array): Promise<Uint8Array>;
  publicJwks(): Promise<PublicJwk[]>;
}
