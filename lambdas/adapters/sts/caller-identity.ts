import type { CallerIdentityService } from '../../core/authentication';
import { DependencyUnavailableError, UnauthenticatedError } from '../../core/errors';
import { forwardableHeaders, type SignedStsRequest } from '../../core/identity/aws-iam';

const ARN = /<Arn>(arn:aws[a-z-]*:(?:iam|sts)::\d{12}:[^<]{1,512})<\/Arn>/;

/**
 * Forwards a caller's signed sts:GetCallerIdentity, unchanged, to the STS host it was
 * signed for (already checked to be STS) and reads the ARN STS answers with. STS verifies
 * the signature; a refusal from STS is a refused login, an unreachable STS an outage.
 */
export class StsCallerIdentity implements CallerIdentityService {
  constructor(private readonly timeoutMs = 5000) {}

  async callerArn(request: SignedStsRequest): Promise<string> {
    let response: Response;
    try {
      response = await fetch(request.url, {
        method: 'POST',
        headers: forwardableHeaders(request),
        body: request.body,
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      // fetch refuses a malformed request before connecting (a TypeError with no network
      // cause): that is the caller's junk, not an STS outage.
      if (error instanceof TypeError && error.cause === undefined) throw new UnauthenticatedError();
      throw new DependencyUnavailableError('sts', { cause: error });
    }
    const text = await response.text().catch(() => '');
    if (response.status >= 500) throw new DependencyUnavailableError('sts');
    if (!response.ok) throw new UnauthenticatedError();
    const arn = ARN.exec(text)?.[1];
    if (!arn) throw new UnauthenticatedError();
    return arn;
  }
}
