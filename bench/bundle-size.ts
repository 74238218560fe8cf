import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ENV } from '../lambdas/env';

// `npm run bench:bundle`: each Lambda bundled the way the stack bundles it (esbuild, ESM,
// minified), its size and cold import time, as ratios against a baseline bundle holding
// nothing but a DynamoDB GetItem handler, built and measured in the same run.
const OUT = resolve('.bench/bundles');
const HANDLERS = ['authorizer', 'token', 'secrets', 'tenants', 'health', 'audit', 'identity', 'audit-shipper'];
const IMPORT_RUNS = Number(process.env.BENCH_IMPORT_RUNS ?? 5);

await rm(OUT, { recursive: true, force: true });
await mkdir(OUT, { recursive: true });
const baselineEntry = join(OUT, 'baseline-entry.ts');
await writeFile(
  baselineEntry,
  `import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
const db = new DynamoDBClient({});
export const handler = async () => db.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'x' } } }));
`,
);

const banner = "import { createRequire } from 'module';const require = createRequire(import.meta.url);";
async function bundle(name: string, entry: string) {
  const outfile = join(OUT, `${name}.mjs`);
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    mainFields: ['module', 'main'],
    banner: { js: banner },
    logLevel: 'error',
    nodePaths: [resolve('node_modules')],
  });
  const bytes = (await stat(outfile)).size;
  return { name, outfile, bytes, gzip: gzipSync(readFileSync(outfile)).length };
}

const env = {
  ...process.env,
  [ENV.region]: 'eu-west-1',
  [ENV.regions]: 'eu-west-1,eu-central-1',
  [ENV.tableName]: 'coffer-bench',
  [ENV.signingKeyId]: 'alias/coffer/token-signing',
  [ENV.auditBucket]: 'coffer-audit-bench',
  [ENV.auditSigningKeyId]: 'alias/coffer/audit-signing',
  [ENV.issuer]: 'https://coffer.example',
  [ENV.logLevel]: 'SILENT',
  AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
};
/** Median wall time of a fresh `node` importing the bundle (a cold start's module cost). */
function importMs(file: string): number {
  const script = `const t=performance.now();await import(${JSON.stringify(file)});console.log(performance.now()-t)`;
  const runs = Array.from({ length: IMPORT_RUNS }, () =>
    Number(execFileSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], { env, encoding: 'utf8' }).trim()),
  ).sort((a, b) => a - b);
  return runs[Math.floor(runs.length / 2)]!;
}

const baseline = await bundle('baseline (bare DynamoDB GetItem)', baselineEntry);
const baselineMs = importMs(baseline.outfile);
const rows = [{ function: baseline.name, bytes: baseline.bytes, gzip: baseline.gzip, 'size ×': '1.00×', 'import ms': baselineMs.toFixed(0), 'import ×': '1.00×' }];
for (const name of HANDLERS) {
  process.stderr.write(`bundling ${name}…\n`);
  const b = await bundle(name, resolve(`lambdas/handlers/${name}.ts`));
  const ms = importMs(b.outfile);
  rows.push({
    function: name,
    bytes: b.bytes,
    gzip: b.gzip,
    'size ×': `${(b.bytes / baseline.bytes).toFixed(2)}×`,
    'import ms': ms.toFixed(0),
    'import ×': `${(ms / baselineMs).toFixed(2)}×`,
  });
}
console.log(`\nLambda bundles (esbuild, ESM, minified; import time = median of ${IMPORT_RUNS} fresh node processes)`);
console.table(rows);
