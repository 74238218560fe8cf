import type { TestProject } from 'vitest/node';
import { startMoto } from '../../bin/local/moto';

// One moto_server for the whole run, on 127.0.0.1 at a free port; stopped by its pid at the end.
export default async function setup(project: TestProject) {
  const moto = await startMoto();
  project.provide('awsEndpoint', moto.endpoint);
  return async () => {
    await moto.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    awsEndpoint: string;
  }
}
