import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/**
 * What a caller sends as `grant_type=aws_iam`: an sts:GetCallerIdentity request signed
 * with its own AWS credentials, naming the Coffer tenant in a signed header. Coffer
 * forwards it to STS, which answers with the caller's ARN; the credentials never leave
 * the caller.
 */
export async function signedCallerIdentityRequest(options: {
  credentials: AwsCredentials;
  tenant: string;
  region?: string;
  /** Defaults to the global STS endpoint; the local runtime passes its moto endpoint. */
  stsEndpoint?: string;
  now?: Date;
}) {
  const url = new URL(options.stsEndpoint ?? 'https://sts.amazonaws.com/');
  const body = 'Action=GetCallerIdentity&Version=2011-06-15';
  const signer = new SignatureV4({ credentials: options.credentials, region: options.region ?? 'us-east-1', service: 'sts', sha256: Hash.bind(null, 'sha256') });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: '/',
      query: {},
      headers: {
        host: url.host,
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        'x-coffer-tenant': options.tenant,
      },
      body,
    },
    options.now ? { signingDate: options.now } : {},
  );
  return { method: 'POST', url: `${url.protocol}//${url.host}/`, headers: signed.headers as Record<string, string>, body };
}
