import type { Node } from 'constructs';
import { InvalidConfigError, integerContext, listContext, mapContext, stringContext } from './context';

export { InvalidConfigError } from './context';

/** Route 53's two request intervals (seconds); 10 s costs more and fails over sooner. */
export const HEALTH_CHECK_INTERVALS = [10, 30] as const;
export type HealthCheckInterval = (typeof HEALTH_CHECK_INTERVALS)[number];

/** How Route 53 decides a region is down, and how long resolvers keep the answer. */
export interface FailoverSettings {
  readonly healthCheckIntervalSeconds: HealthCheckInterval;
  /** Consecutive failed checks before a region counts as unhealthy (Route 53 allows 1–10). */
  readonly failureThreshold: number;
  /** TTL of the failover records for the API's name. */
  readonly recordTtlSeconds: number;
}

/** Deployment settings, read once from CDK context (`-c key=value` or cdk.json). No lookups. */
export interface CofferConfig {
  /** Stage name, e.g. `dev` or `prod`; part of every resource and stack name. */
  readonly stage: string;
  /** Both regions the vault runs in, primary first. */
  readonly regions: readonly [primary: string, standby: string];
  /** The region Route 53 sends traffic to while its health check passes. */
  readonly primaryRegion: string;
  /** Hot standby: serves as soon as the primary's health check fails. */
  readonly standbyRegion: string;
  /** Target account; undefined keeps the stacks account-agnostic (synth stays offline). */
  readonly account?: string;
  /** `iss` of the access tokens Coffer mints (the same in both regions, so tokens travel). */
  readonly issuer: string;
  /** `aud` of the access tokens Coffer mints. */
  readonly audience: string;
  /**
   * Token-signing keys retired by a rotation, still published in the JWKS and accepted by
   * the authorizer until the tokens they signed expire (keep them at least one hour).
   */
  readonly previousSigningKeyArns: readonly string[];
  /** The API's public name, e.g. `api.dev.coffer.example`; each region also answers `<region>.<name>`. */
  readonly apiDomain: string;
  /** The public hosted zone holding `apiDomain` (imported by id and name, never looked up). */
  readonly hostedZone: { readonly id: string; readonly name: string };
  /**
   * An ACM certificate per region covering `apiDomain` and `<region>.<apiDomain>`; a region
   * without one gets a DNS-validated certificate created in its stack.
   */
  readonly certificateArns: Readonly<Partial<Record<string, string>>>;
  /** Receives every alarm (SNS e-mail subscription, confirmed by the recipient). */
  readonly alarmEmail: string;
  readonly failover: FailoverSettings;
}

export const DEFAULT_REGIONS = ['eu-west-1', 'eu-central-1'] as const;
export const DEFAULT_STAGE = 'dev';
export const TOKEN_AUDIENCE = 'coffer';
/** Offline defaults; a `prod` stage must name its own (see `requireExplicitForProd`). */
export const DEFAULT_HOSTED_ZONE = { id: 'Z0COFFEREXAMPLE', name: 'coffer.example' } as const;
export const DEFAULT_FAILOVER: FailoverSettings = { healthCheckIntervalSeconds: 10, failureThreshold: 2, recordTtlSeconds: 15 };
const MAX_RECORD_TTL_SECONDS = 300;

const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,15}$/;
const REGION_PATTERN = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const ACCOUNT_PATTERN = /^\d{12}$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/;
const ACM_CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:([a-z0-9-]+):(\d{12}):certificate\/[0-9a-f-]{36}$/;
const HOSTED_ZONE_ID = /^Z[0-9A-Z]{1,31}$/;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** The name one region answers on directly: what its health check probes. */
export function regionalApiDomain(config: Pick<CofferConfig, 'apiDomain'>, region: string): string {
  return `${region}.${config.apiDomain}`;
}

/** The other region of the pair. */
export function peerRegion(config: Pick<CofferConfig, 'regions'>, region: string): string {
  const [primary, standby] = config.regions;
  if (region === primary) return standby;
  if (region === standby) return primary;
  throw new InvalidConfigError(`${region} is not one of ${config.regions.join(', ')}`);
}

/** Reads and validates the config from the construct tree's context; fails fast on bad input. */
export function loadConfig(node: Node): CofferConfig {
  const stage = stringContext(node, 'stage') ?? DEFAULT_STAGE;
  if (!STAGE_PATTERN.test(stage)) {
    throw new InvalidConfigError(`context "stage" must match ${STAGE_PATTERN}, got "${stage}"`);
  }
  const regions = readRegions(node);
  const account = stringContext(node, 'account');
  if (account !== undefined && !ACCOUNT_PATTERN.test(account)) {
    throw new InvalidConfigError(`context "account" must be a 12-digit account id, got "${account}"`);
  }

  const issuer = stringContext(node, 'issuer') ?? `https://coffer.${stage}.example`;
  if (!/^https?:\/\/[^\s/]+/.test(issuer)) {
    throw new InvalidConfigError(`context "issuer" must be an http(s) URL, got "${issuer}"`);
  }
  const previousSigningKeyArns = listContext(node, 'previousSigningKeyArns') ?? [];
  const badKey = previousSigningKeyArns.find((arn) => !KMS_KEY_ARN.test(arn));
  if (badKey !== undefined) throw new InvalidConfigError(`context "previousSigningKeyArns" holds an invalid KMS key ARN "${badKey}"`);

  const hostedZone = readHostedZone(node);
  const apiDomain = readApiDomain(node, stage, hostedZone.name, regions);
  const certificateArns = readCertificateArns(node, regions, account);
  const alarmEmail = stringContext(node, 'alarmEmail') ?? `coffer-alarms@${hostedZone.name}`;
  if (!EMAIL.test(alarmEmail)) throw new InvalidConfigError(`context "alarmEmail" must be an e-mail address, got "${alarmEmail}"`);

  if (stage === 'prod') requireExplicitForProd(node);

  return {
    stage,
    regions,
    primaryRegion: regions[0],
    standbyRegion: regions[1],
    account,
    issuer,
    audience: TOKEN_AUDIENCE,
    previousSigningKeyArns,
    apiDomain,
    hostedZone,
    certificateArns,
    alarmEmail,
    failover: readFailover(node),
  };
}

function readRegions(node: Node): readonly [string, string] {
  const regions = listContext(node, 'regions') ?? [...DEFAULT_REGIONS];
  const badRegion = regions.find((region) => !REGION_PATTERN.test(region));
  if (badRegion !== undefined) {
    throw new InvalidConfigError(`context "regions" holds an invalid region "${badRegion}"`);
  }
  if (new Set(regions).size !== regions.length) {
    throw new InvalidConfigError(`context "regions" lists a region twice: ${regions.join(',')}`);
  }
  const [primary, standby, ...more] = regions;
  // One active region and one hot standby, as DSV runs it (DESIGN.md, "Regions and failover").
  if (primary === undefined || standby === undefined || more.length > 0) {
    throw new InvalidConfigError(`context "regions" must list exactly two regions, primary first; got "${regions.join(',')}"`);
  }
  return [primary, standby];
}

function readHostedZone(node: Node): CofferConfig['hostedZone'] {
  const id = stringContext(node, 'hostedZoneId') ?? DEFAULT_HOSTED_ZONE.id;
  if (!HOSTED_ZONE_ID.test(id)) {
    throw new InvalidConfigError(`context "hostedZoneId" must be a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ, got "${id}"`);
  }
  const name = (stringContext(node, 'hostedZoneName') ?? DEFAULT_HOSTED_ZONE.name).toLowerCase().replace(/\.$/, '');
  if (!isDomainName(name)) throw new InvalidConfigError(`context "hostedZoneName" must be a domain name, got "${name}"`);
  return { id, name };
}

function readApiDomain(node: Node, stage: string, zoneName: string, regions: readonly string[]): string {
  const apiDomain = (stringContext(node, 'domain') ?? `api.${stage}.${zoneName}`).toLowerCase().replace(/\.$/, '');
  if (!isDomainName(apiDomain)) throw new InvalidConfigError(`context "domain" must be a domain name, got "${apiDomain}"`);
  // A CNAME cannot sit at a zone apex, and the name must be in the zone we write records to.
  if (!apiDomain.endsWith(`.${zoneName}`)) {
    throw new InvalidConfigError(`context "domain" (${apiDomain}) must be a name below the hosted zone "${zoneName}", not its apex`);
  }
  const longest = Math.max(...regions.map((region) => regionalApiDomain({ apiDomain }, region).length));
  if (longest > 253) throw new InvalidConfigError(`context "domain" is too long: <region>.${apiDomain} exceeds 253 characters`);
  return apiDomain;
}

function readCertificateArns(node: Node, regions: readonly string[], account: string | undefined): Partial<Record<string, string>> {
  const arns = mapContext(node, 'certificateArns') ?? {};
  for (const [region, arn] of Object.entries(arns)) {
    if (!regions.includes(region)) {
      throw new InvalidConfigError(`context "certificateArns" names ${region}, which is not one of ${regions.join(', ')}`);
    }
    const match = ACM_CERTIFICATE_ARN.exec(arn);
    if (!match) throw new InvalidConfigError(`context "certificateArns" holds an invalid ACM certificate ARN for ${region}: "${arn}"`);
    // API Gateway takes a regional endpoint's certificate only from its own region.
    if (match[1] !== region) throw new InvalidConfigError(`context "certificateArns": the certificate for ${region} is in ${match[1]}`);
    if (account !== undefined && match[2] !== account) {
      throw new InvalidConfigError(`context "certificateArns": the certificate for ${region} belongs to account ${match[2]}, not ${account}`);
    }
  }
  return arns;
}

function readFailover(node: Node): FailoverSettings {
  const interval = integerContext(node, 'healthCheckIntervalSeconds') ?? DEFAULT_FAILOVER.healthCheckIntervalSeconds;
  if (!isHealthCheckInterval(interval)) {
    throw new InvalidConfigError(`context "healthCheckIntervalSeconds" must be 10 or 30 (Route 53's intervals), got ${interval}`);
  }
  const failureThreshold = integerContext(node, 'healthCheckFailureThreshold') ?? DEFAULT_FAILOVER.failureThreshold;
  if (failureThreshold < 1 || failureThreshold > 10) {
    throw new InvalidConfigError(`context "healthCheckFailureThreshold" must be between 1 and 10, got ${failureThreshold}`);
  }
  const recordTtlSeconds = integerContext(node, 'recordTtlSeconds') ?? DEFAULT_FAILOVER.recordTtlSeconds;
  if (recordTtlSeconds < 0 || recordTtlSeconds > MAX_RECORD_TTL_SECONDS) {
    throw new InvalidConfigError(`context "recordTtlSeconds" must be between 0 and ${MAX_RECORD_TTL_SECONDS}, got ${recordTtlSeconds}`);
  }
  return { healthCheckIntervalSeconds: interval, failureThreshold, recordTtlSeconds };
}

/** The offline defaults name a zone and a mailbox that do not exist: production must not inherit them. */
function requireExplicitForProd(node: Node): void {
  const missing = ['account', 'hostedZoneId', 'hostedZoneName', 'alarmEmail'].filter((key) => stringContext(node, key) === undefined);
  if (missing.length > 0) {
    throw new InvalidConfigError(`stage "prod" needs explicit context: ${missing.map((key) => `"${key}"`).join(', ')}`);
  }
}

function isHealthCheckInterval(value: number): value is HealthCheckInterval {
  return (HEALTH_CHECK_INTERVALS as readonly number[]).includes(value);
}

function isDomainName(name: string): boolean {
  const labels = name.split('.');
  return name.length <= 253 && labels.length >= 2 && labels.every((label) => DNS_LABEL.test(label));
}
