import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Acknowledgment, Validations } from 'aws-cdk-lib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SKIP_BUNDLING, SYNTH_TIMEOUT_MS, type TempApp, tempApp } from './fixture';

interface ValidationReport {
  pluginReports: { pluginName: string; violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[] }[];
}

const readReport = (outdir: string): ValidationReport =>
  JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as ValidationReport;

describe('cdk-nag AwsSolutions', () => {
  let fixture: TempApp | undefined;
  afterEach(() => {
    vi.restoreAllMocks();
    fixture?.dispose();
    fixture = undefined;
  });

  it(
    'passes: every finding is fixed or acknowledged with a reason',
    () => {
      const acknowledgements: Acknowledgment[] = [];
      const acknowledge = Validations.prototype.acknowledge;
      vi.spyOn(Validations.prototype, 'acknowledge').mockImplementation(function (this: Validations, ...rules) {
        acknowledgements.push(...rules);
        acknowledge.apply(this, rules);
      });

      fixture = tempApp({ context: SKIP_BUNDLING, nag: true });
      expect(() => fixture!.app.synth()).not.toThrow();

      const nagAcknowledgements = acknowledgements.filter((a) => a.id.startsWith('AwsSolutions-'));
      expect(nagAcknowledgements.length).toBeGreaterThan(0);
      for (const { id, reason } of nagAcknowledgements) {
        expect(reason.length, `reason for ${id}`).toBeGreaterThanOrEqual(60);
      }
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'fails synth on a finding that is not acknowledged (proof the check is live)',
    () => {
      // Drop one acknowledgement: the public routes are then an APIG4 finding.
      const acknowledge = Validations.prototype.acknowledge;
      vi.spyOn(Validations.prototype, 'acknowledge').mockImplementation(function (this: Validations, ...rules) {
        acknowledge.apply(this, rules.filter((rule) => rule.id !== 'AwsSolutions-APIG4'));
      });

      fixture = tempApp({ context: SKIP_BUNDLING, nag: true });
      expect(() => fixture!.app.synth()).toThrow(/AwsSolutions-APIG4/);

      const violations = readReport(fixture.outdir).pluginReports.flatMap((report) => report.violations);
      expect(violations.map((v) => v.ruleName)).toEqual(['AwsSolutions-APIG4']);
      // The three public routes, in each region's stack.
      const paths = violations[0]!.violatingConstructs.map((c) => c.constructPath);
      for (const stack of fixture.regionalStacks) {
        expect(paths.filter((path) => path.startsWith(`${stack.stackName}/`)).sort(), stack.stackName).toEqual([
          expect.stringMatching(/\/\.well-known\/jwks\.json\/GET\/Resource$/),
          expect.stringMatching(/\/health\/GET\/Resource$/),
          expect.stringMatching(/\/v1\/token\/POST\/Resource$/),
        ]);
      }
      expect(paths).toHaveLength(3 * fixture.regionalStacks.length);
    },
    SYNTH_TIMEOUT_MS,
  );
});
