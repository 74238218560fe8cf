// The tenant-access role (lib/constructs/tenant-access-role.ts): defence in depth behind
// the tenant-bound repositories, after the AWS SaaS token-vending pattern. The stack
// deploys it and hands its ARN to the request functions (COFFER_TENANT_ACCESS_ROLE_ARN);
// its policy confines a session to the partitions and KMS calls of the tenant named by
// the session tag below.
//
// NOT YET USED AT RUN TIME. The runtime still calls DynamoDB and KMS with each function's
// own role. The step that remains: mint credentials in one place (an STS adapter here),
// AssumeRole with Tags [{ Key: TENANT_SESSION_TAG, Value: <tenant id of the verified
// token> }], cache them per tenant until shortly before expiry, never pass them through
// the authorizer context (it is logged), and build the tenant-bound clients from them.

/** The STS session tag the tenant-access role requires and its policy reads back. */
export const TENANT_SESSION_TAG = 'TenantId';
