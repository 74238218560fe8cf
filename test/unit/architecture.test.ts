import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The layering of lambdas/, read from the source: which module imports which. Type-only
// imports count, since a circle of types is still a circle a reader has to hold at once.

const LAMBDAS = resolve(import.meta.dirname, '../../lambdas');

interface Module {
  readonly file: string;
  /** Relative imports, resolved to files under lambdas/. */
  readonly local: readonly string[];
  /** Package specifiers, as written. */
  readonly packages: readonly string[];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

// `import … from 'x'`, `export … from 'x'`, `import 'x'` and `import('x')`, across lines.
const SPECIFIER = /(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*'([^']+)'|(?:^|[\s;])import\s*'([^']+)'|import\(\s*'([^']+)'\s*\)/g;

function readModule(file: string): Module {
  const local: string[] = [];
  const packages: string[] = [];
  for (const match of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
    const specifier = match[1] ?? match[2] ?? match[3]!;
    if (!specifier.startsWith('.')) {
      packages.push(specifier);
      continue;
    }
    const base = resolve(dirname(file), specifier);
    const target = [`${base}.ts`, join(base, 'index.ts'), base].find((candidate) => existsSync(candidate) && statSync(candidate).isFile());
    if (!target) throw new Error(`${relative(LAMBDAS, file)}: cannot resolve ${specifier}`);
    local.push(target);
  }
  return { file, local, packages };
}

const modules = sourceFiles(LAMBDAS).map(readModule);
const name = (file: string) => relative(LAMBDAS, file);

/** Every import circle, each as the path that closes it (a → b → … → a). */
function circles(): string[][] {
  const edges = new Map(modules.map((m) => [m.file, m.local]));
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of edges.get(file) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next].map(name));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const { file } of modules) if (!state.has(file)) visit(file);
  return found;
}

describe('the layering of lambdas/', () => {
  it('reads a plausible graph (the scan finds the modules and their imports)', () => {
    expect(modules.length).toBeGreaterThan(50);
    expect(modules.find((m) => name(m.file) === 'core/secrets.ts')?.local.map(name)).toContain('ports/page.ts');
    expect(modules.find((m) => name(m.file) === 'adapters/aws-clients.ts')?.packages).toContain('@aws-sdk/client-s3');
  });

  it('imports @aws-sdk/* only in adapters/ (where the one wiring module, adapters/aws-clients.ts, lives)', () => {
    const outside = modules
      .filter((m) => !name(m.file).startsWith('adapters/'))
      .flatMap((m) => m.packages.filter((p) => p.startsWith('@aws-sdk/')).map((p) => `${name(m.file)}: ${p}`));
    expect(outside).toEqual([]);
  });

  it('builds SDK clients only in adapters/aws-clients.ts', () => {
    const builders = modules
      .filter((m) => /new (?:DynamoDB|KMS|S3|STS|DynamoDBStreams)Client\(|DynamoDBDocumentClient\.from\(/.test(readFileSync(m.file, 'utf8')))
      .map((m) => name(m.file));
    expect(builders.sort()).toEqual(['adapters/aws-clients.ts', 'adapters/dynamodb/client.ts']);
  });

  it('keeps every file at 400 lines or fewer (past that, a file has more than one job)', () => {
    const long = modules.map((m) => ({ file: name(m.file), lines: readFileSync(m.file, 'utf8').split('\n').length })).filter((f) => f.lines > 400);
    expect(long).toEqual([]);
  });

  it('has no import circle', () => {
    expect(circles()).toEqual([]);
  });

  it('lets a port use only core modules that import no port (domain value types), so core → ports stays one way', () => {
    const importsAPort = (file: string) => modules.find((m) => m.file === file)!.local.some((f) => name(f).startsWith('ports/'));
    const offenders = modules
      .filter((m) => name(m.file).startsWith('ports/'))
      .flatMap((m) => m.local.filter((f) => name(f).startsWith('core/') && importsAPort(f)).map((f) => `${name(m.file)} → ${name(f)}`));
    expect(offenders).toEqual([]);
  });
});
