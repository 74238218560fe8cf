import { AsyncLocalStorage } from 'node:async_hooks';
import { actingTenant } from '../ports/acting-tenant';

// Counts AWS calls per service and command, through an SDK middleware on every client we
// create. Benchmarks and tests read it to state "AWS calls per operation" as a fact. Tests
// may also watch each call: who signed it, for which acting tenant, and what it named.
export type AwsCallCounts = Record<string, number>;

const counts: AwsCallCounts = {};

/** One AWS call as a test sees it; `input` as sent (DynamoDB attribute values marshalled). */
export interface ObservedAwsCall {
  readonly service: string;
  readonly command: string;
  readonly input: Record<string, unknown>;
  /** The access key id the request was signed with. */
  readonly accessKeyId: string | undefined;
  /** The tenant the request that made the call acted for (ports/acting-tenant.ts). */
  readonly actingTenant: string | undefined;
  /** The function that made it, where its invoker said (the local gateway does). */
  readonly functionName: string | undefined;
  readonly output?: unknown;
}

type Observer = (call: ObservedAwsCall) => void;
const observers = new Set<Observer>();
const invoking = new AsyncLocalStorage<string>();

/** Runs one invocation of a function, naming it in every call it makes (for observers). */
export function asFunction<T>(name: string, invocation: () => T): T {
  return invoking.run(name, invocation);
}

type Next = (args: { input?: unknown; request?: { headers?: Record<string, string> } }) => Promise<{ output?: unknown }>;
type Context = { clientName?: string; commandName?: string };
interface MiddlewareStackLike {
  add(middleware: (next: Next, context: Context) => Next, options: { step: 'initialize'; name: string }): void;
  addRelativeTo(middleware: (next: Next, context: Context) => Next, options: { relation: 'after'; toMiddleware: string; name: string }): void;
}

const commandOf = (context: Context) => (context.commandName ?? 'unknown').replace(/Command$/, '');
const SIGNED_BY = /Credential=([^/]+)\//;

export function countCalls<C extends { middlewareStack: unknown }>(client: C, service: string): C {
  const stack = client.middlewareStack as MiddlewareStackLike;
  stack.add(
    (next, context) => async (args) => {
      const key = `${service}:${commandOf(context)}`;
      counts[key] = (counts[key] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'cofferCallCounter' },
  );
  // After signing, so the observer sees which credentials signed the call.
  stack.addRelativeTo(
    (next, context) => async (args) => {
      if (observers.size === 0) return next(args);
      const seen = {
        service,
        command: commandOf(context),
        input: (args.input ?? {}) as Record<string, unknown>,
        accessKeyId: SIGNED_BY.exec(args.request?.headers?.authorization ?? '')?.[1],
        actingTenant: actingTenant(),
        functionName: invoking.getStore(),
      };
      let output: unknown;
      try {
        const result = await next(args);
        output = result.output;
        return result;
      } finally {
        // Failed calls too: a refused write named its keys all the same.
        for (const observer of observers) observer({ ...seen, output });
      }
    },
    { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'cofferCallObserver' },
  );
  return client;
}

/** Calls `observer` after every AWS call attempt until the returned function is called. */
export function observeAwsCalls(observer: Observer): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

export function awsCallCounts(): AwsCallCounts {
  return { ...counts };
}

export function resetAwsCallCounts(): void {
  for (const key of Object.keys(counts)) delete counts[key];
}
