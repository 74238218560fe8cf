import type { ClientRepository } from '../ports/tenant-repository';
import { verifySecret } from './credentials';
import { UnauthenticatedError } from './errors';
import { scopeOfClientId } from './ids';
import type { Principal } from './principal';
import type { TokenIssuer, TokenResponse } from './tokens';

// Grants of POST /v1/token. Every failure is the same UnauthenticatedError, after the same
// amount of work, so a caller learns nothing about which part was wrong.
export class Authentication {
  constructor(private readonly clients: ClientRepository, private readonly tokens: TokenIssuer) {}

  async clientCredentials(clientId: string, clientSecret: string): Promise<TokenResponse> {
    return (await this.authenticateClient(clientId, clientSecret)).token;
  }

  /** Verifies an API client's credentials and mints its access token. */
  async authenticateClient(clientId: string, clientSecret: string): Promise<{ principal: Principal; token: TokenResponse }> {
    const scope = scopeOfClientId(clientId);
    const client = scope === undefined ? undefined : await this.clients.get(scope, clientId);
    const secretMatches = await verifySecret(clientSecret, client?.secretHash);
    if (!client || !secretMatches || client.status !== 'active') throw new UnauthenticatedError();
    const principal: Principal =
      client.scope === 'platform'
        ? { kind: 'platform', type: 'platform', id: client.clientId }
        : { kind: 'tenant', tenantId: client.scope, type: 'client', id: client.clientId, roles: client.roles };
    return { principal, token: await this.tokens.issue(principal) };
  }
}
