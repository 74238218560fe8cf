import type { Clock } from '../../ports/clock';
import type { ClaimBinding, GroupRecord, IamBindingRecord, IdentityRecords, IdentityRecordStore, IssuerRecord, PolicyRecord } from '../../ports/identity';
import type { Page, PageRequest } from '../../ports/page';
import { assertMayEmpower, assertMayGrant, assertMayLiftDenies, shapeOf } from '../access/grant-bound';
import type { AccessPolicy } from '../access/policy';
import { ConflictError, ForbiddenError, InvalidRequestError } from '../errors';
import type { Role, TenantPrincipal } from '../principal';
import { wildcardsOverlap } from '../wildcard';
import { MAX_IAM_BINDINGS, MAX_ISSUERS, MAX_POLICIES } from './names';
import { clean, RecordKeeper, type Stamp } from './record-keeper';
import { asAdmin, type AdminRequest } from './requests';
import { assertMayManage } from './roles';

export type NamedKind = 'group' | 'issuer' | 'iam-binding' | 'policy';

export interface GroupInput {
  readonly description?: string | undefined;
  readonly roles: readonly Role[];
}
export type PolicyInput = Omit<AccessPolicy, 'name'>;
export type IssuerInput = Pick<IssuerRecord, 'issuer' | 'jwksUri' | 'audiences' | 'bindings' | 'status'>;
export interface IamBindingInput {
  readonly arnPattern: string;
  readonly roles: readonly Role[];
  readonly groups?: readonly string[] | undefined;
  readonly status: 'active' | 'disabled';
}

export interface NamedRecordDeps {
  readonly records: IdentityRecordStore;
  readonly clock: Clock;
}

/** A named record written by PUT: what it is now, and whether the PUT created it. */
export interface PutResult<R> {
  readonly record: R;
  readonly created: boolean;
}

/**
 * Groups, trusted issuers and IAM bindings (records that carry roles, managed by Owners and
 * Admins), and policies (managed by whoever holds `grant` on their paths).
 */
export class NamedRecordAdmin {
  private readonly keeper: RecordKeeper;

  constructor(private readonly deps: NamedRecordDeps) {
    this.keeper = new RecordKeeper(deps.records, deps.clock);
  }

  async list<K extends NamedKind>(req: AdminRequest, kind: K, page: PageRequest): Promise<Page<IdentityRecords[K]>> {
    const actor = kind === 'policy' ? await this.policyReader(req) : asAdmin(req);
    return this.deps.records.list(actor.tenantId, kind, page);
  }

  async get<K extends NamedKind>(req: AdminRequest, kind: K, name: string): Promise<IdentityRecords[K]> {
    const actor = kind === 'policy' ? await this.policyReader(req) : asAdmin(req);
    return this.keeper.mustGet(actor.tenantId, kind, name);
  }

  async putGroup(req: AdminRequest, name: string, input: GroupInput): Promise<PutResult<GroupRecord>> {
    const actor = asAdmin(req);
    assertNoOwnerRole(input.roles, 'A group');
    // Its members get its roles and whatever policies allow `group:<name>` (a recreated
    // group inherits both, and any memberships left from before).
    const evaluator = await this.keeper.evaluator(req);
    assertMayEmpower(actor, evaluator, [{ idPatterns: [], roles: input.roles, groups: [name] }], req.sourceIp, 'grant');
    return this.putNamed(req, actor, 'group', name, (base) => ({ ...base, name, ...clean(input) }), (old) => {
      assertMayManage(actor, old.roles);
      // A role the group loses takes its members out of the denies aimed at that role.
      const lost = old.roles.filter((role) => !input.roles.includes(role));
      assertMayLiftDenies(actor, evaluator, lost.map((role) => `role:${role}`), req.sourceIp);
    });
  }

  async putIssuer(req: AdminRequest, name: string, input: IssuerInput): Promise<PutResult<IssuerRecord>> {
    const actor = asAdmin(req);
    assertNoOwnerRole(input.bindings.flatMap((b: ClaimBinding) => b.roles), 'A trusted issuer');
    // Each binding mints principals `federated:<issuer name>:<sub>`, for any sub it admits.
    const named = input.bindings.flatMap((b) => b.groups ?? []);
    const groups = await this.keeper.groupsNamed(actor, named, named);
    const shapes = input.bindings.map((b) => shapeOf('federated', [`${name}:*`], b.roles, b.groups ?? [], groups));
    assertMayEmpower(actor, await this.keeper.evaluator(req), shapes, req.sourceIp, 'grant');
    return this.putNamed(
      req,
      actor,
      'issuer',
      name,
      (base, old) => ({ ...base, name, ...clean(input), generation: this.keeper.nextGeneration(old) }),
      (old) => assertMayManage(actor, old.bindings.flatMap((b) => b.roles)),
      MAX_ISSUERS,
    );
  }

  async putIamBinding(req: AdminRequest, name: string, input: IamBindingInput): Promise<PutResult<IamBindingRecord>> {
    const actor = asAdmin(req);
    assertNoOwnerRole(input.roles, 'An IAM binding');
    const groups = input.groups ?? [];
    await this.keeper.assertMayEmpowerPrincipal(req, actor, { type: 'iam', idPatterns: iamIdPatterns(input.arnPattern), roles: input.roles, groups }, 'grant', groups);
    return this.putNamed(
      req,
      actor,
      'iam-binding',
      name,
      (base, old) => ({ ...base, name, ...clean(input), generation: this.keeper.nextGeneration(old) }),
      (old) => assertMayManage(actor, old.roles),
      MAX_IAM_BINDINGS,
    );
  }

  /**
   * Policies: whoever holds `grant` on every path a policy names may write it, and an
   * allow entry may only hand out operations the writer holds on those paths. Owners may
   * always edit policies, so no policy can lock the Owners out.
   */
  async putPolicy(req: AdminRequest, name: string, input: PolicyInput): Promise<PutResult<PolicyRecord>> {
    const actor = req.principal;
    const evaluator = await this.keeper.evaluator(req);
    assertMayGrant(actor, evaluator, input.entries, req.sourceIp);
    return this.putNamed(
      req,
      actor,
      'policy',
      name,
      (base) => ({ ...base, name, ...clean(input) }),
      (old) => assertMayGrant(actor, evaluator, old.entries, req.sourceIp, 'replacing'),
      MAX_POLICIES,
    );
  }

  async remove(req: AdminRequest, kind: NamedKind, name: string): Promise<void> {
    const actor = kind === 'policy' ? await this.policyReader(req) : asAdmin(req);
    const record = await this.keeper.mustGet(actor.tenantId, kind, name);
    if (kind === 'policy') {
      assertMayGrant(actor, await this.keeper.evaluator(req), (record as PolicyRecord).entries, req.sourceIp, 'replacing');
    } else {
      assertMayManage(actor, rolesOf(record as GroupRecord | IssuerRecord | IamBindingRecord));
      // Deleting a group lifts from its members the denies aimed at it and at its roles.
      if (kind === 'group') {
        const selectors = [`group:${name}`, ...(record as GroupRecord).roles.map((role) => `role:${role}`)];
        assertMayLiftDenies(actor, await this.keeper.evaluator(req), selectors, req.sourceIp);
      }
    }
    await this.deps.records.remove(actor.tenantId, kind, name, record.rev, 0, req.audit?.pending(204, { name }));
  }

  /** Creates or replaces one named record: `mayReplace` vets the old one, `cap` bounds how many. */
  private async putNamed<K extends NamedKind>(
    req: AdminRequest,
    actor: TenantPrincipal,
    kind: K,
    name: string,
    build: (base: { tenantId: string } & Stamp, old: IdentityRecords[K] | undefined) => IdentityRecords[K],
    mayReplace: (old: IdentityRecords[K]) => void,
    cap?: number,
  ): Promise<PutResult<IdentityRecords[K]>> {
    const old = await this.deps.records.get(actor.tenantId, kind, name);
    if (old) mayReplace(old);
    else if (cap !== undefined && (await this.deps.records.all(actor.tenantId, kind)).length >= cap) {
      throw new ConflictError(`A tenant can have at most ${cap} of these; delete one first.`);
    }
    const base = old
      ? { tenantId: actor.tenantId, ...this.keeper.bump(old, actor), createdAt: old.createdAt, createdBy: old.createdBy }
      : { tenantId: actor.tenantId, ...this.keeper.stamp(actor) };
    const record = build(base, old);
    await this.deps.records.save(actor.tenantId, kind, record, old?.rev, 0, req.audit?.pending(old ? 200 : 201, { name }));
    return { record, created: !old };
  }

  /**
   * Policies name principals and paths: Owners, Admins and whoever may grant somewhere
   * read them; nobody else learns who may do what.
   */
  private async policyReader(req: AdminRequest): Promise<TenantPrincipal> {
    const actor = req.principal;
    if (actor.roles.includes('owner') || actor.roles.includes('admin')) return actor;
    const evaluator = await this.keeper.evaluator(req);
    if (!evaluator.mayAnywhere(actor, 'grant', req.sourceIp)) throw new ForbiddenError('Only Owners, Admins and holders of grant can read policies.');
    return actor;
  }
}

/**
 * The principal ids an IAM binding may mint: ARNs its pattern matches, and the sessions of
 * roles it matches (`arn:…:sts::<account>:assumed-role/<role>/<session>`, as roleArnOf maps them).
 */
function iamIdPatterns(arnPattern: string): string[] {
  const [, partition, service, , account, ...rest] = arnPattern.split(':');
  const resource = rest.join(':');
  if (service === 'sts' || !wildcardsOverlap(resource, 'role/*')) return [arnPattern];
  const role = resource.startsWith('role/') ? resource.slice('role/'.length) : '*';
  return [arnPattern, `arn:${partition}:sts::${account}:assumed-role/${role}/*`];
}

function rolesOf(record: GroupRecord | IssuerRecord | IamBindingRecord): Role[] {
  return 'bindings' in record ? record.bindings.flatMap((b) => b.roles) : [...record.roles];
}

function assertNoOwnerRole(roles: readonly Role[], what: string): void {
  if (roles.includes('owner')) throw new InvalidRequestError(`${what} cannot carry the Owner role: Owners are users or clients, counted so the last one cannot go.`, [{ field: 'roles', message: 'owner not allowed' }]);
}
