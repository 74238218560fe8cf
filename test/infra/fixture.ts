import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CofferApp, createCofferApp } from '../../lib/app';

/** Synth with bundling skipped: template shape only, no esbuild run (about 4 s instead of 12 s). */
export const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] as string[] };

/** Every infra test synthesizes, some with real bundling: give hooks and tests room. */
export const SYNTH_TIMEOUT_MS = 120_000;

export interface TempApp extends CofferApp {
  readonly outdir: string;
  dispose(): void;
}

/** A Coffer app writing its cloud assembly to a fresh temp dir (removed by `dispose`). */
export function tempApp(options: { context?: Record<string, unknown>; nag?: boolean } = {}): TempApp {
  const outdir = mkdtempSync(join(tmpdir(), 'coffer-infra-'));
  const built = createCofferApp({ outdir, context: options.context, nag: options.nag });
  return { ...built, outdir, dispose: () => rmSync(outdir, { recursive: true, force: true }) };
}
