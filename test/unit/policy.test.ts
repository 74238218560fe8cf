import { describe, expect, it } from 'vitest';
import { ForbiddenError } from '../../lambdas/core/errors';
import { authorizePlatformAdmin, authorizeSecretOperation, type SecretOperation } from '../../lambdas/core/policy';
import { ROLES, type Role } from '../../lambdas/core/principal';
import { platformAdmin, TENANT_A, tenantPrincipal } from './support/fakes';

const OPERATIONS: readonly SecretOperation[] = ['create', 'read', 'update', 'delete', 'list', 'purge'];

// The role table, written out in full so that any change to the code shows up here.
const EXPECTED: Record<Role, Record<SecretOperation, boolean>> = {
  owner: { create: true, read: true, update: true, delete: true, list: true, purge: true },
  admin: { create: true, read: true, update: true, delete: true, list: true, purge: true },
  contributor: { create: true, read: true, update: true, delete: true, list: true, purge: false },
  viewer: { create: false, read: true, update: false, delete: false, list: true, purge: false },
};

const cases = ROLES.flatMap((role) => OPERATIONS.map((operation) => [role, operation, EXPECTED[role][operation]] as const));

describe('authorizeSecretOperation: roles → operations', () => {
  it('covers exactly the four roles of the design', () => {
    expect([...ROLES]).toEqual(['owner', 'admin', 'contributor', 'viewer']);
  });

  it.each(cases)('%s may %s: %s', (role, operation, allowed) => {
    const principal = tenantPrincipal(TENANT_A, [role]);
    if (allowed) {
      expect(authorizeSecretOperation(principal, operation)).toBe(principal);
    } else {
      expect(() => authorizeSecretOperation(principal, operation)).toThrow(ForbiddenError);
      expect(() => authorizeSecretOperation(principal, operation)).toThrow(`Your roles do not allow '${operation}' on secrets.`);
    }
  });

  it('only owner and admin may purge', () => {
    const purgers = ROLES.filter((role) => {
      try {
        authorizeSecretOperation(tenantPrincipal(TENANT_A, [role]), 'purge');
        return true;
      } catch {
        return false;
      }
    });
    expect(purgers).toEqual(['owner', 'admin']);
  });

  it('grants the union of several roles', () => {
    const p = tenantPrincipal(TENANT_A, ['viewer', 'contributor']);
    expect(authorizeSecretOperation(p, 'update')).toBe(p);
    expect(() => authorizeSecretOperation(p, 'purge')).toThrow(ForbiddenError);
  });

  it('denies a principal with no roles everything', () => {
    for (const op of OPERATIONS) expect(() => authorizeSecretOperation(tenantPrincipal(TENANT_A, []), op)).toThrow(ForbiddenError);
  });

  it('denies an operation it does not know (default deny)', () => {
    const owner = tenantPrincipal(TENANT_A, ['owner']);
    for (const op of ['grant', 'admin', 'write', '', 'constructor', '__proto__']) {
      expect(() => authorizeSecretOperation(owner, op as SecretOperation)).toThrow(ForbiddenError);
    }
  });

  // Roles are validated when a token is verified, but policy is the last line: a role it does
  // not know must be a plain 403, not a TypeError that surfaces as a 500.
  it('denies a role it does not know with ForbiddenError, not a TypeError (default deny)', () => {
    for (const role of ['superuser', 'Owner', '__proto__', 'toString']) {
      const p = tenantPrincipal(TENANT_A, [role as Role]);
      expect(() => authorizeSecretOperation(p, 'read'), `role ${role}`).toThrow(ForbiddenError);
    }
  });

  it('lets a known role through even when an unknown one sits beside it', () => {
    const p = tenantPrincipal(TENANT_A, ['viewer', 'superuser' as Role]);
    expect(authorizeSecretOperation(p, 'read')).toBe(p);
  });

  it('refuses platform principals any secret operation', () => {
    for (const op of OPERATIONS) {
      expect(() => authorizeSecretOperation(platformAdmin, op)).toThrow(
        'Platform principals manage tenants; they cannot access tenant secrets.',
      );
    }
  });
});

describe('authorizePlatformAdmin', () => {
  it('allows the platform principal', () => {
    expect(() => authorizePlatformAdmin(platformAdmin)).not.toThrow();
  });

  it.each(ROLES)('refuses a tenant %s', (role) => {
    expect(() => authorizePlatformAdmin(tenantPrincipal(TENANT_A, [role]))).toThrow(ForbiddenError);
  });
});
