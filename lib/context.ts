import type { Node } from 'constructs';

// Typed readers of CDK context (`-c key=value`, cdk.json or an App's `context`). The
// command line hands every value over as a string, cdk.json as JSON: each reader takes both.

export class InvalidConfigError extends Error {
  override readonly name = 'InvalidConfigError';
}

const isAbsent = (value: unknown) => value === undefined || value === null || value === '';

export function stringContext(node: Node, key: string): string | undefined {
  const value: unknown = node.tryGetContext(key);
  if (isAbsent(value)) return undefined;
  if (typeof value !== 'string') throw new InvalidConfigError(`context "${key}" must be a string`);
  return value.trim();
}

/** Accepts a JSON array (cdk.json) or a comma-separated string (`-c regions=a,b`). */
export function listContext(node: Node, key: string): string[] | undefined {
  const value: unknown = node.tryGetContext(key);
  if (isAbsent(value)) return undefined;
  const items = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(items) || !items.every((item) => typeof item === 'string')) {
    throw new InvalidConfigError(`context "${key}" must be a list of strings or a comma-separated string`);
  }
  return items.map((item) => item.trim()).filter((item) => item !== '');
}

/** An integer, given as a JSON number or a decimal string. */
export function integerContext(node: Node, key: string): number | undefined {
  const value: unknown = node.tryGetContext(key);
  if (isAbsent(value)) return undefined;
  const number = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number)) {
    throw new InvalidConfigError(`context "${key}" must be an integer, got ${JSON.stringify(value)}`);
  }
  return number;
}

/**
 * A string-to-string map: a JSON object (cdk.json) or `k=v` pairs separated by commas
 * (`-c certificateArns=eu-west-1=arn:…,eu-central-1=arn:…`).
 */
export function mapContext(node: Node, key: string): Record<string, string> | undefined {
  const value: unknown = node.tryGetContext(key);
  if (isAbsent(value)) return undefined;
  if (typeof value === 'string') {
    const entries = value.split(',').map((pair) => pair.trim()).filter(Boolean).map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new InvalidConfigError(`context "${key}" must be key=value pairs separated by commas, got "${pair}"`);
      return [pair.slice(0, at).trim(), pair.slice(at + 1).trim()] as const;
    });
    return Object.fromEntries(entries);
  }
  if (typeof value !== 'object' || Array.isArray(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw new InvalidConfigError(`context "${key}" must be an object of strings or key=value pairs`);
  }
  return Object.fromEntries(Object.entries(value as Record<string, string>).map(([k, v]) => [k.trim(), v.trim()]));
}
