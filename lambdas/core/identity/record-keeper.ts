import type { Clock } from '../../ports/clock';
import type { GroupRecord, IdentityKind, IdentityRecords, IdentityRecordStore, OwnerDelta } from '../../ports/identity';
import { AccessEvaluator } from '../access/policy';
import { assertMayEmpower, shapeOf, type EmpowerPurpose } from '../access/grant-bound';
import { InvalidRequestError, NotFoundError } from '../errors';
import { describePrincipal, type Role, type TenantPrincipal, type TenantPrincipalType } from '../principal';
import type { AdminRequest } from './requests';

/** Who made a record and who changed it last, and its revision (optimistic concurrency). */
export interface Stamp {
  readonly rev: number;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

/**
 * What every kind of identity administration shares: reading a record that must exist,
 * stamping and revising records, generations, and the grant bound for one principal.
 */
export class RecordKeeper {
  constructor(
    readonly records: IdentityRecordStore,
    private readonly clock: Clock,
  ) {}

  now(): number {
    return this.clock.now();
  }

  async mustGet<K extends IdentityKind>(tenantId: string, kind: K, name: string): Promise<IdentityRecords[K]> {
    const record = await this.records.get(tenantId, kind, name);
    if (!record) throw new NotFoundError(`No ${kind} '${name}'.`);
    return record;
  }

  /** A new record's first stamp. */
  stamp(actor: TenantPrincipal): Stamp {
    const at = new Date(this.clock.now()).toISOString();
    const by = describePrincipal(actor);
    return { rev: 1, createdAt: at, createdBy: by, updatedAt: at, updatedBy: by };
  }

  /** The next revision of a record, changed by `actor` now. */
  bump(record: { rev?: number }, actor: TenantPrincipal): Pick<Stamp, 'rev' | 'updatedAt' | 'updatedBy'> {
    return { rev: (record.rev ?? 1) + 1, updatedAt: new Date(this.clock.now()).toISOString(), updatedBy: describePrincipal(actor) };
  }

  /** Generations only grow, across deletes too: a recreated name never revives old tokens. */
  nextGeneration(old: { generation?: number } | undefined): number {
    return Math.max((old?.generation ?? 0) + 1, this.clock.now());
  }

  /** The tenant's policies and safelist, read once per request and shared by its checks. */
  async evaluator(req: AdminRequest): Promise<AccessEvaluator> {
    return new AccessEvaluator(await req.rules());
  }

  /**
   * The named groups that exist. Those in `mustExist` (the ones a change adds) must; a
   * stale membership of a deleted group just counts for nothing.
   */
  async groupsNamed(actor: TenantPrincipal, names: readonly string[], mustExist: readonly string[]): Promise<GroupRecord[]> {
    const unique = [...new Set(names)];
    const groups = unique.length ? await this.records.groups(actor.tenantId, unique) : [];
    const missing = mustExist.filter((n) => !groups.some((g) => g.name === n));
    if (missing.length) throw new InvalidRequestError(`No group '${missing[0]}'.`, [{ field: 'groups', message: 'unknown group' }]);
    return groups;
  }

  /** The grant bound for one principal a change creates, edits or hands over. */
  async assertMayEmpowerPrincipal(
    req: AdminRequest,
    actor: TenantPrincipal,
    target: { type: TenantPrincipalType; idPatterns: readonly string[]; roles: readonly Role[]; groups: readonly string[] },
    purpose: EmpowerPurpose,
    mustExist: readonly string[] = [],
  ): Promise<void> {
    const groups = await this.groupsNamed(actor, target.groups, mustExist);
    const shape = shapeOf(target.type, target.idPatterns, target.roles, target.groups, groups);
    assertMayEmpower(actor, await this.evaluator(req), [shape], req.sourceIp, purpose);
  }
}

const directOwner = (r: { roles: readonly Role[]; status: string } | undefined) => (r && r.status === 'active' && r.roles.includes('owner') ? 1 : 0);

/** How a change moves the count of direct Owners (checked so the last one cannot go). */
export function ownerDelta(before: Parameters<typeof directOwner>[0], after: Parameters<typeof directOwner>[0]): OwnerDelta {
  return (directOwner(after) - directOwner(before)) as OwnerDelta;
}

export function lostRoles(before: readonly Role[], after: readonly Role[] | undefined): boolean {
  return after !== undefined && before.some((role) => !after.includes(role));
}

export function addedGroups(before: readonly string[], after: readonly string[] | undefined): string[] {
  return after === undefined ? [] : after.filter((g) => !before.includes(g));
}

/** Changes that can give a principal more than it has: roles, groups, re-enabling. */
export function empowers(changes: { roles?: unknown; groups?: unknown; status?: string }): boolean {
  return changes.roles !== undefined || changes.groups !== undefined || changes.status === 'active';
}

/** Drops keys whose value is undefined, so optional fields are absent rather than null. */
export function clean<T extends object>(input: T): T {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as T;
}
