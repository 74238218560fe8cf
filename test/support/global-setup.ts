import type { TestProject } from 'vitest/node';
import { execFileSync } from 'node:child_process';
import { startEmulators } from '../../bin/local/emulators';

// One DynamoDB Local and one moto_server for the whole run, each on 127.0.0.1 at a free
// port; stopped by their pids at the end. The runtime under test is the deployed one's
// major: the pinned `node` package puts Node 24 first on PATH for npm scripts.
export default async function setup(project: TestProject) {
  console.log(`node ${process.version} (${execFileSync('node', ['--version']).toString().trim()} on PATH)`);
  const emulators = await startEmulators({ moto: true, dynamodb: true });
  project.provide('awsEndpoint', emulators.moto!.endpoint);
  project.provide('dynamodbEndpoint', emulators.dynamodb!.endpoint);
  return () => emulators.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    awsEndpoint: string;
    dynamodbEndpoint: string;
  }
}
