/** A tenant's data keys (AES-256), unwrapped on demand; bound to one tenant. */
export interface TenantDataKeys {
  current(): Promise<{ keyVersion: number; key: Uint8Array }>;
  get(keyVersion: number): Promise<Uint8Array>;
}
