// Counts AWS calls per service and command, through an SDK middleware on every client we
// create. Benchmarks and tests read it to state "AWS calls per operation" as a fact.
export type AwsCallCounts = Record<string, number>;

const counts: AwsCallCounts = {};

interface MiddlewareStackLike {
  add(middleware: (next: (args: unknown) => Promise<unknown>, context: { clientName?: string; commandName?: string }) => (args: unknown) => Promise<unknown>, options: { step: 'initialize'; name: string }): void;
}

export function countCalls<C extends { middlewareStack: unknown }>(client: C, service: string): C {
  (client.middlewareStack as MiddlewareStackLike).add(
    (next, context) => async (args) => {
      const key = `${service}:${context.commandName ?? 'unknown'}`.replace(/Command$/, '');
      counts[key] = (counts[key] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'cofferCallCounter' },
  );
  return client;
}

export function awsCallCounts(): AwsCallCounts {
  return { ...counts };
}

export function resetAwsCallCounts(): void {
  for (const key of Object.keys(counts)) delete counts[key];
}
