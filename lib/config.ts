import type { Node } from 'constructs';

/** Deployment settings, read once from CDK context (`-c key=value` or cdk.json). No lookups. */
export interface CofferConfig {
  /** Stage name, e.g. `dev` or `prod`; part of every resource and stack name. */
  readonly stage: string;
  /** All regions the vault runs in, primary first. */
  readonly regions: readonly string[];
  /** The region that owns writes in normal operation (the first of `regions`). */
  readonly primaryRegion: string;
  /** Target account; undefined keeps the stacks account-agnostic (synth stays offline). */
  readonly account?: string;
  /** `iss` of the access tokens Coffer mints. */
  readonly issuer: string;
  /** `aud` of the access tokens Coffer mints. */
  readonly audience: string;
  /**
   * Token-signing keys retired by a rotation, still published in the JWKS and accepted by
   * the authorizer until the tokens they signed expire (keep them at least one hour).
   */
  readonly previousSigningKeyArns: readonly string[];
}

export const DEFAULT_REGIONS = ['eu-west-1', 'eu-central-1'] as const;
export const DEFAULT_STAGE = 'dev';
export const TOKEN_AUDIENCE = 'coffer';

const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,15}$/;
const REGION_PATTERN = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const ACCOUNT_PATTERN = /^\d{12}$/;

export class InvalidConfigError extends Error {
  override readonly name = 'InvalidConfigError';
}

/** Reads and validates the config from the construct tree's context; fails fast on bad input. */
export function loadConfig(node: Node): CofferConfig {
  const stage = stringContext(node, 'stage') ?? DEFAULT_STAGE;
  if (!STAGE_PATTERN.test(stage)) {
    throw new InvalidConfigError(`context "stage" must match ${STAGE_PATTERN}, got "${stage}"`);
  }

  const regions = listContext(node, 'regions') ?? [...DEFAULT_REGIONS];
  const badRegion = regions.find((region) => !REGION_PATTERN.test(region));
  if (badRegion !== undefined) {
    throw new InvalidConfigError(`context "regions" holds an invalid region "${badRegion}"`);
  }
  if (new Set(regions).size !== regions.length) {
    throw new InvalidConfigError(`context "regions" lists a region twice: ${regions.join(',')}`);
  }
  const [primaryRegion] = regions;
  if (primaryRegion === undefined) {
    throw new InvalidConfigError('context "regions" must list at least one region');
  }

  const account = stringContext(node, 'account');
  if (account !== undefined && !ACCOUNT_PATTERN.test(account)) {
    throw new InvalidConfigError(`context "account" must be a 12-digit account id, got "${account}"`);
  }

  const issuer = stringContext(node, 'issuer') ?? `https://coffer.${stage}.example`;
  if (!/^https?:\/\/[^\s/]+/.test(issuer)) {
    throw new InvalidConfigError(`context "issuer" must be an http(s) URL, got "${issuer}"`);
  }

  const previousSigningKeyArns = listContext(node, 'previousSigningKeyArns') ?? [];
  const badKey = previousSigningKeyArns.find((arn) => !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/.test(arn));
  if (badKey !== undefined) throw new InvalidConfigError(`context "previousSigningKeyArns" holds an invalid KMS key ARN "${badKey}"`);

  return { stage, regions, primaryRegion, account, issuer, audience: TOKEN_AUDIENCE, previousSigningKeyArns };
}

function stringContext(node: Node, key: string): string | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new InvalidConfigError(`context "${key}" must be a string`);
  }
  return value.trim();
}

/** Accepts a JSON array (cdk.json) or a comma-separated string (`-c regions=a,b`). */
function listContext(node: Node, key: string): string[] | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  const items = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(items) || !items.every((item) => typeof item === 'string')) {
    throw new InvalidConfigError(`context "${key}" must be a list of strings or a comma-separated string`);
  }
  return items.map((item) => item.trim()).filter((item) => item !== '');
}
