import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { GroupRecord, SessionRecord, TokenSource, TokenState, TokenStateReader } from '../../ports/identity';
import { batchGet, identityKey, sessionKey, strip } from './identity-items';

/** The authorizer's read: the record that minted a token, its session and groups, in one BatchGetItem. */
export class DynamoTokenState implements TokenStateReader {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async loadTokenState(tenantId: string, source: TokenSource, sessionId: string | undefined, groups: readonly string[]): Promise<TokenState> {
    const sourceKey = identityKey(tenantId, source.kind, source.name);
    const session = sessionId ? sessionKey(tenantId, sessionId) : undefined;
    const groupKeys = groups.map((group) => identityKey(tenantId, 'group', group));
    const found = await batchGet(this.db, this.table, [sourceKey, ...(session ? [session] : []), ...groupKeys]);
    const sourceItem = found.get(sourceKey.sk);
    const sessionItem = session ? found.get(session.sk) : undefined;
    return {
      ...(sourceItem ? { source: strip(sourceItem) } : {}),
      ...(sessionItem ? { session: { ...strip<SessionRecord>(sessionItem), revoked: sessionItem.revoked === true } } : {}),
      groups: groupKeys.flatMap((key) => {
        const item = found.get(key.sk);
        return item ? [strip<GroupRecord>(item)] : [];
      }),
    };
  }
}
