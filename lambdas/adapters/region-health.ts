import { DescribeKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { keys } from './dynamodb/keys';

export interface CheckResult {
  readonly ok: boolean;
  readonly latencyMs: number;
  readonly error?: string;
}

export interface HealthReport {
  readonly status: 'ok' | 'unavailable';
  readonly region: string;
  readonly checks: { readonly dynamodb: CheckResult; readonly kms: CheckResult; readonly drained: CheckResult };
}

const CHECK_TIMEOUT_MS = 2_000;

/**
 * The deep health check behind Route 53 failover: this region serves only if it can read
 * the table, reach KMS, and has not been drained by an operator (the region item's flag).
 */
export class RegionHealth {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly kms: KMSClient,
    private readonly table: string,
    private readonly signingKeyId: string,
    private readonly region: string,
  ) {}

  async check(): Promise<HealthReport> {
    let drained = false;
    const [dynamodb, kms] = await Promise.all([
      timed(async () => {
        const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: keys.regionPk, sk: keys.regionSk(this.region) } }));
        drained = Item?.drained === true;
      }),
      timed(() => this.kms.send(new DescribeKeyCommand({ KeyId: this.signingKeyId }))),
    ]);
    const drainedCheck: CheckResult = dynamodb.ok
      ? { ok: !drained, latencyMs: 0, ...(drained ? { error: 'region drained by an operator' } : {}) }
      : { ok: false, latencyMs: 0, error: 'unknown: DynamoDB unreachable' };
    const ok = dynamodb.ok && kms.ok && drainedCheck.ok;
    return { status: ok ? 'ok' : 'unavailable', region: this.region, checks: { dynamodb, kms, drained: drainedCheck } };
  }
}

async function timed(probe: () => Promise<unknown>): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    // Name the failure class only: health output is public.
    return { ok: false, latencyMs: Math.round(performance.now() - started), error: (error as Error).name || 'Error' };
  } finally {
    clearTimeout(timer);
  }
}
