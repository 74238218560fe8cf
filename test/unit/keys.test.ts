import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keys, leadingKeys } from '../../lambdas/adapters/dynamodb/keys';
import { newTenantId } from '../../lambdas/core/ids';

// The key layout has one home, lambdas/adapters/dynamodb/keys.ts. The stack's IAM conditions
// and stream filter are built from it; these tests hold the derived forms to what the
// adapters write, and keep other modules from spelling keys again.

const ROOT = resolve(import.meta.dirname, '../..');

/** IAM StringLike: `*` any run of characters, `?` one; everything else literal. */
function stringLike(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.');
  return new RegExp(`^${body}$`);
}

const tenant = newTenantId();
const other = newTenantId();
const everyTenantPartition = (tenantId: string) => [
  keys.tenantMeta(tenantId),
  keys.identity(tenantId),
  keys.secretHeads(tenantId),
  keys.secretVersions(tenantId, 'app/db'),
  keys.auditChain(tenantId),
];

describe('IAM leading-key patterns, derived from the key builders', () => {
  it('admit the partition they name, of any tenant, and no other partition', () => {
    const cases = [
      [leadingKeys.anyTenantIdentity, keys.identity],
      [leadingKeys.anyTenantMeta, keys.tenantMeta],
      [leadingKeys.anyTenantAudit, keys.auditChain],
    ] as const;
    for (const [pattern, partition] of cases) {
      const like = stringLike(pattern);
      for (const id of [tenant, other]) {
        for (const pk of everyTenantPartition(id)) expect(like.test(pk), `${pattern} vs ${pk}`).toBe(pk === partition(id));
      }
      expect(like.test(keys.tenantIndexPk), pattern).toBe(false);
    }
  });

  it('name the platform partitions exactly as the adapters write them', () => {
    expect(leadingKeys.platform).toBe(keys.tenantIndexPk);
    expect(leadingKeys.platform).toBe(keys.clientPk('platform'));
    expect(leadingKeys.platform).toBe(keys.regionPk);
    expect(leadingKeys.platformAudit).toBe(keys.auditChain('platform'));
  });
});

describe('audit keys', () => {
  it('read a chain back from its partition key, for tenants and the platform', () => {
    expect(keys.chainOfAuditPk(keys.auditChain(tenant))).toBe(tenant);
    expect(keys.chainOfAuditPk(keys.auditChain('platform'))).toBe('platform');
    expect(keys.chainOfAuditPk(keys.identity(tenant))).toBeUndefined();
  });

  it('tell event sort keys (what the stream filter and the shipper select) from the chain’s other items', () => {
    expect(keys.auditEventSk(1).startsWith(keys.auditEventSkPrefix)).toBe(true);
    expect(keys.isAuditEventSk(keys.auditEventSk(42))).toBe(true);
    for (const sk of [keys.auditShippedSk, keys.sinkSk('siem')]) expect(keys.isAuditEventSk(sk), sk).toBe(false);
    expect(keys.auditEventSk(999_999_999_999) < keys.auditEventSkAfterLast).toBe(true);
    expect(keys.auditEventSkAfterLast < keys.auditShippedSk).toBe(true);
  });

  it('build sort keys that start with the prefixes queries select them by', () => {
    expect(keys.versionSk(7).startsWith(keys.versionSkPrefix)).toBe(true);
    expect(keys.sinkSk('siem').startsWith(keys.sinkSkPrefix)).toBe(true);
    expect(keys.tenantIndexSk(tenant).startsWith(keys.tenantIndexSkPrefix)).toBe(true);
  });
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

describe('one home for the key layout', () => {
  it('spells no partition key outside keys.ts (lib/ and lambdas/, comments aside)', () => {
    const home = resolve(ROOT, 'lambdas/adapters/dynamodb/keys.ts');
    // A quoted string that starts a partition key, or names a per-tenant partition's suffix.
    const keyLiteral = /(['`])(?:T#|PLATFORM|REGION#|E#)[^'`]*\1|(['`])[^'`\n]*#(?:META|IDENTITY|AUDIT|HEADS|SECRET)\b[^'`\n]*\2/g;
    const offenders = ['lib', 'lambdas']
      .flatMap((dir) => sourceFiles(resolve(ROOT, dir)))
      .filter((file) => file !== home)
      .flatMap((file) => {
        const code = readFileSync(file, 'utf8')
          .replace(/\/\*[\s\S]*?\*\//g, '')
          .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
        return [...code.matchAll(keyLiteral)].map((match) => `${relative(ROOT, file)}: ${match[0]}`);
      });
    expect(offenders).toEqual([]);
  });
});
