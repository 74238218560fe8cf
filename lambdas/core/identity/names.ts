// Names of identity records: safe in DynamoDB keys, URLs, audit events and selectors.
export const USERNAME = /^[a-z0-9][a-z0-9._@+-]{0,63}$/;
export const RECORD_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

/** Caps that keep every per-request read of a tenant's rules small. */
export const MAX_POLICIES = 100;
export const MAX_ENTRIES_PER_POLICY = 50;
export const MAX_IAM_BINDINGS = 100;
export const MAX_ISSUERS = 20;
export const MAX_GROUPS_PER_PRINCIPAL = 20;
