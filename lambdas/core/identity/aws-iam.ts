import { UnauthenticatedError } from '../errors';

// Vault's aws auth method: the caller signs sts:GetCallerIdentity with its own AWS
// credentials and hands us the signed request; STS tells us whose credentials signed it.
// We check everything STS does not check for us before forwarding anything:
//   - it is GetCallerIdentity, to an STS host (never forwarded anywhere else);
//   - it was signed within the last 15 minutes (x-amz-date is signed);
//   - it names this tenant in a signed `x-coffer-tenant` header, so a request captured
//     by one tenant (or another service) cannot log in to another;
//   - it is used once (the caller stores its signature as a nonce).
export const TENANT_HEADER = 'x-coffer-tenant';
export const MAX_SIGNATURE_AGE_MS = 15 * 60_000;

export interface SignedStsRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

const STS_HOST = /^sts(\.[a-z]{2}(-[a-z]+)+-\d)?\.amazonaws\.com(\.cn)?$/;
const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([A-Za-z0-9]{16,128})\/(\d{8})\/([a-z0-9-]+)\/sts\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
/** Headers that frame or route the connection: never taken from the caller. */
const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'content-length', 'expect']);
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/** Throws UnauthenticatedError unless the request is one we may forward; returns its signature. */
export function checkSignedCallerIdentity(
  request: SignedStsRequest,
  options: { tenantId: string; now: number; extraHosts: readonly string[] },
): string {
  const refuse = (): never => {
    throw new UnauthenticatedError();
  };
  if (request.method.toUpperCase() !== 'POST') refuse();
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return refuse();
  }
  const local = options.extraHosts.includes(url.host);
  if (!local && (url.protocol !== 'https:' || !STS_HOST.test(url.hostname) || url.port !== '')) refuse();
  if (local && url.protocol !== 'http:' && url.protocol !== 'https:') refuse();
  if (url.pathname !== '/' || url.search !== '' || url.username || url.password) refuse();

  const headers = lowerCase(request.headers);
  if (headers.host !== undefined && headers.host !== url.host) refuse();
  const body = new URLSearchParams(request.body);
  if (body.get('Action') !== 'GetCallerIdentity' || body.get('Version') !== '2011-06-15' || [...body.keys()].length !== 2) refuse();

  const auth = AUTHORIZATION.exec(headers.authorization ?? '');
  if (!auth) return refuse();
  const signed = new Set(auth[4]!.split(';'));
  if (!signed.has('host') || !signed.has('x-amz-date') || !signed.has(TENANT_HEADER)) refuse();
  // What is forwarded must be a well-formed request: junk would fail in our HTTP client
  // (looking like an STS outage) or smuggle framing headers to STS.
  for (const name of signed) {
    if (NOT_FORWARDED.has(name) || name.startsWith('proxy-')) refuse();
    const value = headers[name];
    if (value !== undefined && CONTROL_CHARACTERS.test(value)) refuse();
  }
  if (headers[TENANT_HEADER] !== options.tenantId) refuse();

  const date = AMZ_DATE.exec(headers['x-amz-date'] ?? '');
  if (!date) return refuse();
  const [, y, mo, d, h, mi, s] = date.map(Number) as number[];
  const signedAt = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
  if (Math.abs(options.now - signedAt) > MAX_SIGNATURE_AGE_MS) refuse();
  return auth[5]!;
}

/** Only the headers a signature can cover, lower-cased, in the form STS expects. */
export function forwardableHeaders(request: SignedStsRequest): Record<string, string> {
  const headers = lowerCase(request.headers);
  const signed = AUTHORIZATION.exec(headers.authorization ?? '')?.[4]?.split(';') ?? [];
  const out: Record<string, string> = { authorization: headers.authorization ?? '' };
  for (const name of signed) if (headers[name] !== undefined && name !== 'host') out[name] = headers[name]!;
  return out;
}

function lowerCase(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (typeof value === 'string') out[name.toLowerCase()] = value;
  return out;
}

/** `arn:aws:sts::123:assumed-role/Deploy/session` → `arn:aws:iam::123:role/Deploy`. */
export function roleArnOf(arn: string): string | undefined {
  const match = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(arn);
  return match ? `arn:${match[1]}:iam::${match[2]}:role/${match[3]}` : undefined;
}
