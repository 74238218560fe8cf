import { describe, expect, it } from 'vitest';
import { NO_RULES, type AccessRules } from '../../lambdas/core/access/policy';
import { ForbiddenError } from '../../lambdas/core/errors';
import { SecretAccessGate, type SecretOperation } from '../../lambdas/core/policy';
import { ROLES, type Role } from '../../lambdas/core/principal';
import { TENANT_A, tenantPrincipal } from './support/fakes';

const OPERATIONS: readonly SecretOperation[] = ['create', 'read', 'update', 'delete', 'list', 'purge'];
const PATH = 'some/path';

// The role table, written out in full so that any change to the code shows up here.
const EXPECTED: Record<Role, Record<SecretOperation, boolean>> = {
  owner: { create: true, read: true, update: true, delete: true, list: true, purge: true },
  admin: { create: true, read: true, update: true, delete: true, list: true, purge: true },
  contributor: { create: true, read: true, update: true, delete: true, list: true, purge: false },
  viewer: { create: false, read: true, update: false, delete: false, list: true, purge: false },
};

const cases = ROLES.flatMap((role) => OPERATIONS.map((operation) => [role, operation, EXPECTED[role][operation]] as const));

// A tenant with no policies and no safelist: roles alone decide.
const gate = () => new SecretAccessGate(async () => NO_RULES, '10.0.0.1');
const refusal = (operation: string, path = PATH) => `Your access does not allow '${operation}' on '${path}'.`;

async function allowed(role: Role, operation: SecretOperation): Promise<boolean> {
  try {
    await gate().authorize(tenantPrincipal(TENANT_A, [role]), operation, PATH);
    return true;
  } catch (error) {
    expect(error).toBeInstanceOf(ForbiddenError);
    return false;
  }
}

describe('SecretAccessGate without tenant rules: roles → operations', () => {
  it('covers exactly the four roles of the design', () => {
    expect([...ROLES]).toEqual(['owner', 'admin', 'contributor', 'viewer']);
  });

  it.each(cases)('%s may %s: %s', async (role, operation, expected) => {
    const principal = tenantPrincipal(TENANT_A, [role]);
    const attempt = gate().authorize(principal, operation, PATH);
    if (expected) {
      await expect(attempt).resolves.toBe(principal);
    } else {
      const message = operation === 'purge' ? 'Only Owners and Admins can purge secrets.' : refusal(operation);
      await expect(attempt).rejects.toThrow(ForbiddenError);
      await expect(gate().authorize(principal, operation, PATH)).rejects.toThrow(message);
    }
  });

  it('only owner and admin may purge', async () => {
    const purgers: Role[] = [];
    for (const role of ROLES) if (await allowed(role, 'purge')) purgers.push(role);
    expect(purgers).toEqual(['owner', 'admin']);
  });

  it('names the operation and the path the caller asked for in the refusal', async () => {
    const viewer = tenantPrincipal(TENANT_A, ['viewer']);
    await expect(gate().authorize(viewer, 'update', 'team/db-password')).rejects.toThrow(
      "Your access does not allow 'update' on 'team/db-password'.",
    );
  });

  it('grants the union of several roles', async () => {
    const p = tenantPrincipal(TENANT_A, ['viewer', 'contributor']);
    await expect(gate().authorize(p, 'update', PATH)).resolves.toBe(p);
    await expect(gate().authorize(p, 'purge', PATH)).rejects.toThrow('Only Owners and Admins can purge secrets.');
  });

  it('denies a principal with no roles everything', async () => {
    for (const op of OPERATIONS) {
      await expect(gate().authorize(tenantPrincipal(TENANT_A, []), op, PATH), op).rejects.toThrow(ForbiddenError);
    }
    await expect(gate().authorize(tenantPrincipal(TENANT_A, []), 'read', PATH)).rejects.toThrow(refusal('read'));
  });

  it('denies an operation it does not know (default deny)', async () => {
    const owner = tenantPrincipal(TENANT_A, ['owner']);
    // ('grant' is no longer unknown: it is an access-model operation an Owner holds.)
    for (const op of ['admin', 'write', '', 'constructor', '__proto__', 'toString', 'READ']) {
      await expect(gate().authorize(owner, op as SecretOperation, PATH), `op ${op}`).rejects.toThrow(refusal(op));
    }
  });

  // Roles are validated when a token is verified, but policy is the last line: a role it does
  // not know must be a plain 403, not a TypeError that surfaces as a 500.
  it('denies a role it does not know with ForbiddenError, not a TypeError (default deny)', async () => {
    for (const role of ['superuser', 'Owner', '__proto__', 'toString', 'constructor', 'hasOwnProperty']) {
      const p = tenantPrincipal(TENANT_A, [role as Role]);
      await expect(gate().authorize(p, 'read', PATH), `role ${role}`).rejects.toThrow(refusal('read'));
      await expect(gate().authorize(p, 'purge', PATH), `role ${role}`).rejects.toThrow('Only Owners and Admins can purge secrets.');
    }
  });

  it('lets a known role through even when an unknown one sits beside it', async () => {
    const p = tenantPrincipal(TENANT_A, ['viewer', 'superuser' as Role]);
    await expect(gate().authorize(p, 'read', PATH)).resolves.toBe(p);
  });
  // Platform principals never reach it: the access gate refuses them on every tenant route
  // (test/unit/access-gate.test.ts).
});

describe('SecretAccessGate.authorizeAny', () => {
  it('allows when any one operation is allowed', async () => {
    const viewer = tenantPrincipal(TENANT_A, ['viewer']);
    await expect(gate().authorizeAny(viewer, ['update', 'read'], PATH)).resolves.toBe(viewer);
  });

  it("refuses with the first operation's reason when none is allowed", async () => {
    const viewer = tenantPrincipal(TENANT_A, ['viewer']);
    await expect(gate().authorizeAny(viewer, ['update', 'create'], PATH)).rejects.toThrow(refusal('update'));
    await expect(gate().authorizeAny(viewer, ['purge', 'create'], PATH)).rejects.toThrow('Only Owners and Admins can purge secrets.');
  });
});

describe('SecretAccessGate with tenant rules', () => {
  const rules: AccessRules = {
    tenantCidrs: [],
    policies: [
      {
        name: 'ops',
        entries: [
          { effect: 'allow', principals: ['client:cli_ops'], paths: ['ops/**'], operations: ['read', 'list', 'delete'] },
          { effect: 'deny', principals: ['*'], paths: ['ops/root-key'], operations: ['read', 'delete'] },
        ],
      },
    ],
  };
  const withRules = (r: AccessRules = rules, ip = '10.0.0.1') => new SecretAccessGate(async () => r, ip);

  it('allows through a policy what the roles do not', async () => {
    const ops = tenantPrincipal(TENANT_A, [], 'cli_ops');
    await expect(withRules().authorize(ops, 'read', 'ops/db/password')).resolves.toBe(ops);
    await expect(withRules().authorize(ops, 'read', 'apps/db/password')).rejects.toThrow(refusal('read', 'apps/db/password'));
  });

  it('lets a deny entry win over the Owner role', async () => {
    const owner = tenantPrincipal(TENANT_A, ['owner']);
    await expect(withRules().authorize(owner, 'read', 'ops/root-key')).rejects.toThrow(refusal('read', 'ops/root-key'));
    await expect(withRules().authorize(owner, 'read', 'ops/other')).resolves.toBe(owner);
  });

  it('checks purge as delete on the path, after the role check', async () => {
    const owner = tenantPrincipal(TENANT_A, ['owner']);
    await expect(withRules().authorize(owner, 'purge', 'ops/root-key')).rejects.toThrow(refusal('purge', 'ops/root-key'));
    await expect(withRules().authorize(owner, 'purge', 'ops/other')).resolves.toBe(owner);
    // A policy allowing delete does not make a role-less principal a purger.
    const ops = tenantPrincipal(TENANT_A, [], 'cli_ops');
    await expect(withRules().authorize(ops, 'delete', 'ops/x')).resolves.toBe(ops);
    await expect(withRules().authorize(ops, 'purge', 'ops/x')).rejects.toThrow('Only Owners and Admins can purge secrets.');
  });

  it('refuses everything from outside the tenant network, with its own message', async () => {
    const owner = tenantPrincipal(TENANT_A, ['owner']);
    const fenced = withRules({ ...rules, tenantCidrs: ['10.0.0.0/8'] }, '192.168.1.1');
    await expect(fenced.authorize(owner, 'read', 'x')).rejects.toThrow('Requests from your network are not allowed for this tenant.');
    await expect(fenced.authorizeListing(owner)).rejects.toThrow('Requests from your network are not allowed for this tenant.');
    const inside = withRules({ ...rules, tenantCidrs: ['10.0.0.0/8'] }, '10.9.9.9');
    await expect(inside.authorize(owner, 'read', 'x')).resolves.toBe(owner);
  });

  it('loads the tenant rules once per gate', async () => {
    let loads = 0;
    const g = new SecretAccessGate(async () => {
      loads++;
      return NO_RULES;
    }, '10.0.0.1');
    const owner = tenantPrincipal(TENANT_A, ['owner']);
    await g.authorize(owner, 'read', 'a');
    await g.authorize(owner, 'update', 'b');
    await g.authorizeListing(owner);
    expect(loads).toBe(1);
  });

  it('authorizeListing refuses who may list nowhere and filters paths for who may somewhere', async () => {
    await expect(withRules().authorizeListing(tenantPrincipal(TENANT_A, [], 'cli_nobody'))).rejects.toThrow(
      "Your access does not allow 'list' on secrets.",
    );
    const listable = await withRules().authorizeListing(tenantPrincipal(TENANT_A, [], 'cli_ops'));
    expect(['ops/a', 'ops/a/b', 'apps/a', 'ops'].map(listable)).toEqual([true, true, false, true]);
  });
});
