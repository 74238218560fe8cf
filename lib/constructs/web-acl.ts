import { Stack } from 'aws-cdk-lib';
import type { Stage } from 'aws-cdk-lib/aws-apigateway';
import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

/** Requests per client IP in a 5-minute window before WAF answers 429. */
export const RATE_LIMITS = {
  /** Every route: well above a busy CI runner, far below a flood. */
  perIp: 3000,
  /** Credential exchange, the brute-force target (the stage throttles it too). */
  tokenPerIp: 100,
} as const;

const RATE_WINDOW_SECONDS = 300;
const RATE_LIMITED_BODY = 'rate-limited';

export interface ApiWebAclProps {
  readonly stage: Stage;
}

/**
 * A regional WAF web ACL on the API stage: per-IP rate limits (a tighter one on
 * POST /v1/token) and AWS's common and known-bad-input rule sets. Each region has its own:
 * a REGIONAL ACL protects resources of its region only.
 */
export class ApiWebAcl extends Construct {
  readonly acl: CfnWebACL;

  constructor(scope: Construct, id: string, props: ApiWebAclProps) {
    super(scope, id);
    const name = `coffer-${Stack.of(this).region}`;
    const visibility = (metricName: string) => ({ cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName });
    const rateLimited = { block: { customResponse: { responseCode: 429, customResponseBodyKey: RATE_LIMITED_BODY } } };

    this.acl = new CfnWebACL(this, 'Acl', {
      name,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(name),
      customResponseBodies: {
        [RATE_LIMITED_BODY]: {
          contentType: 'APPLICATION_JSON',
          content: JSON.stringify({ type: 'about:blank', title: 'Too Many Requests', status: 429, detail: 'Too many requests from this address; retry later.' }),
        },
      },
      rules: [
        {
          name: 'token-rate-per-ip',
          priority: 0,
          action: rateLimited,
          statement: {
            rateBasedStatement: {
              limit: RATE_LIMITS.tokenPerIp,
              evaluationWindowSec: RATE_WINDOW_SECONDS,
              aggregateKeyType: 'IP',
              // Ends with: the same rule holds on the custom domain and on /<stage>/v1/token.
              scopeDownStatement: {
                byteMatchStatement: {
                  fieldToMatch: { uriPath: {} },
                  positionalConstraint: 'ENDS_WITH',
                  searchString: '/v1/token',
                  textTransformations: [{ priority: 0, type: 'LOWERCASE' }],
                },
              },
            },
          },
          visibilityConfig: visibility(`${name}-token-rate`),
        },
        {
          name: 'rate-per-ip',
          priority: 1,
          action: rateLimited,
          statement: { rateBasedStatement: { limit: RATE_LIMITS.perIp, evaluationWindowSec: RATE_WINDOW_SECONDS, aggregateKeyType: 'IP' } },
          visibilityConfig: visibility(`${name}-rate`),
        },
        managedRuleGroup('aws-common', 2, 'AWSManagedRulesCommonRuleSet', visibility(`${name}-common`), [
          // Secret values travel in JSON bodies larger than the rule's 8 KB; the API bounds
          // bodies itself (413), so the size rule only counts.
          'SizeRestrictions_BODY',
        ]),
        managedRuleGroup('aws-known-bad-inputs', 3, 'AWSManagedRulesKnownBadInputsRuleSet', visibility(`${name}-bad-inputs`)),
      ],
    });

    new CfnWebACLAssociation(this, 'Association', { resourceArn: props.stage.stageArn, webAclArn: this.acl.attrArn });
  }
}

function managedRuleGroup(
  name: string,
  priority: number,
  group: string,
  visibilityConfig: CfnWebACL.VisibilityConfigProperty,
  countOnly: readonly string[] = [],
): CfnWebACL.RuleProperty {
  return {
    name,
    priority,
    overrideAction: { none: {} },
    statement: {
      managedRuleGroupStatement: {
        vendorName: 'AWS',
        name: group,
        ...(countOnly.length ? { ruleActionOverrides: countOnly.map((rule) => ({ name: rule, actionToUse: { count: {} } })) } : {}),
      },
    },
    visibilityConfig,
  };
}
