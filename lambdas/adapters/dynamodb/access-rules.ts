import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AccessRules } from '../../core/access/policy';
import type { AccessRuleSource, NetworkRecord, PolicyRecord } from '../../ports/identity';
import { dynamo } from './errors';
import { LAYOUT, strip } from './identity-items';
import { keys } from './keys';

/** Policies and the network safelist share the ACCESS# prefix, so one query reads both. */
const ACCESS_PREFIX = 'ACCESS#';

/** A tenant's access rules in one consistent Query: what every secrets and admin check reads. */
export class DynamoAccessRules implements AccessRuleSource {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async accessRules(tenantId: string): Promise<AccessRules> {
    const pk = keys.identity(tenantId);
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const result = await dynamo(() =>
        this.db.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': pk, ':prefix': ACCESS_PREFIX },
            ExclusiveStartKey: start,
            ConsistentRead: true,
          }),
        ),
      );
      items.push(...(result.Items ?? []));
      start = result.LastEvaluatedKey;
    } while (start);
    const network = items.find((item) => item.sk === keys.networkSk) as NetworkRecord | undefined;
    return {
      policies: items.filter((item) => String(item.sk).startsWith(LAYOUT.policy.prefix)).map((item) => strip<PolicyRecord>(item)),
      tenantCidrs: network?.cidrs ?? [],
    };
  }
}
