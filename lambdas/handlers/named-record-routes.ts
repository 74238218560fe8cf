import { z } from 'zod';
import type { NamedKind, NamedRecordAdmin, PutResult } from '../core/identity/named-records';
import type { AdminRequest } from '../core/identity/requests';
import { pageQuery, route } from '../http/api';
import { callerRequest, groupBody, iamBindingBody, issuerBody, listBody, pageOf, policyBody, recordName } from './identity-schemas';

const nameParam = z.object({ name: recordName });

/** The four routes of one kind of named record: list, read, put (create or replace), delete. */
function namedRoutes<K extends NamedKind, I>(
  named: NamedRecordAdmin,
  kind: K,
  collection: 'groups' | 'policies' | 'issuers' | 'iam-bindings',
  body: z.ZodType<I>,
  put: (req: AdminRequest, name: string, input: I) => Promise<PutResult<unknown>>,
) {
  return [
    route({
      method: 'GET',
      resource: `/v1/${collection}` as const,
      audit: { action: `${kind}.list` },
      input: z.object({ query: z.strictObject(pageQuery) }),
      handle: async ({ input, principal, request }) => ({ status: 200, body: listBody(await named.list(callerRequest(principal, request), kind, pageOf(input.query))) }),
    }),
    route({
      method: 'GET',
      resource: `/v1/${collection}/{name}` as const,
      audit: { action: `${kind}.read` },
      input: z.object({ params: nameParam }),
      handle: async ({ input, principal, request }) => {
        const record = await named.get(callerRequest(principal, request), kind, input.params.name);
        return { status: 200, body: record, headers: { ETag: `"${record.rev}"` } };
      },
    }),
    route({
      method: 'PUT',
      resource: `/v1/${collection}/{name}` as const,
      audit: { action: `${kind}.write` },
      input: z.object({ params: nameParam, body }),
      handle: async ({ input, principal, request }) => {
        const { record, created } = await put(callerRequest(principal, request), input.params.name, input.body);
        return { status: created ? 201 : 200, body: record, headers: { Location: `/v1/${collection}/${input.params.name}` } };
      },
    }),
    route({
      method: 'DELETE',
      resource: `/v1/${collection}/{name}` as const,
      audit: { action: `${kind}.delete` },
      input: z.object({ params: nameParam }),
      handle: async ({ input, principal, request }) => {
        await named.remove(callerRequest(principal, request), kind, input.params.name);
        return { status: 204 };
      },
    }),
  ];
}

/** Groups, policies, trusted issuers and IAM bindings. */
export function namedRecordRoutes(named: NamedRecordAdmin, options: { readonly allowLoopbackIssuers: boolean }) {
  return [
    ...namedRoutes(named, 'group', 'groups', groupBody, (req, name, input) => named.putGroup(req, name, input)),
    ...namedRoutes(named, 'policy', 'policies', policyBody, (req, name, input) => named.putPolicy(req, name, input)),
    ...namedRoutes(named, 'issuer', 'issuers', issuerBody(options.allowLoopbackIssuers), (req, name, input) => named.putIssuer(req, name, input)),
    ...namedRoutes(named, 'iam-binding', 'iam-bindings', iamBindingBody, (req, name, input) => named.putIamBinding(req, name, input)),
  ];
}
