import { z } from 'zod';
import { whyInvalidPath, type SecretPath } from '../core/secret-path';

export const secretPath = z.string().transform((raw, ctx) => {
  const reason = whyInvalidPath(raw);
  if (reason) {
    ctx.addIssue({ code: 'custom', message: reason });
    return z.NEVER;
  }
  return raw as SecretPath;
});

const TAG_KEY = /^[A-Za-z0-9._:\/=+@-]{1,128}$/;

/**
 * `data` must be a JSON object (not an array, not null); its size is checked by the core.
 * Kept as parsed, not copied key by key: a copy would turn a `"__proto__"` key into the
 * object's prototype and silently drop it.
 */
const jsonObject = z.custom<Record<string, unknown>>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  'must be a JSON object',
);

export const secretBody = z.strictObject({
  data: jsonObject,
  description: z.string().max(1024).optional(),
  tags: z
    .record(z.string().regex(TAG_KEY, 'tag keys use A-Z a-z 0-9 and . _ : / = + @ -, up to 128'), z.string().max(256))
    .refine((tags) => Object.keys(tags).length <= 50, 'at most 50 tags')
    .optional(),
});

/** `?version=N` and `If-Match: N` (or an ETag form `"N"`, `W/"N"`). */
export const versionNumber = z
  .string()
  .regex(/^[1-9][0-9]{0,9}$/, 'a positive version number')
  .transform(Number)
  .pipe(z.number().int().max(2 ** 31 - 1));

export const ifMatch = z
  .string()
  .transform((s) => s.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1'))
  .pipe(versionNumber);

export const booleanFlag = z.enum(['true', 'false']).transform((s) => s === 'true');

export const etag = (version: number) => `"${version}"`;
