import { RedisKitError } from '../errors';

// Small, dependency-free validators shared by every engine. Each throws a
// RedisKitError with ERR_REDISKIT_INVALID_OPTION / ERR_REDISKIT_UNKNOWN_OPTION
// and names the option as the user wrote it (`rateLimit.limit`).

function fail(where: string, name: string, expected: string, value: unknown): never {
  let shown: string;
  try {
    shown = typeof value === 'function' ? 'a function' : JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  throw new RedisKitError('ERR_REDISKIT_INVALID_OPTION', `${where}.${name} must be ${expected}; got ${shown}`, {
    details: { option: `${where}.${name}` },
  });
}

function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(
        d[i - 1]![j]! + 1,
        d[i]![j - 1]! + 1,
        d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * Throws ERR_REDISKIT_INVALID_OPTION unless `options` is a plain object (or
 * undefined), and ERR_REDISKIT_UNKNOWN_OPTION for a key not in `known`, with
 * the closest known name as a hint. Typos in option names are the most common
 * misconfiguration and otherwise fail silently.
 */
export function assertKnownOptions(where: string, options: unknown, known: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new RedisKitError('ERR_REDISKIT_INVALID_OPTION', `${where} options must be an object`, {
      details: { option: where },
    });
  }
  for (const name of Object.keys(options)) {
    if (known.includes(name)) continue;
    const hint = known
      .map((k) => ({ k, d: distance(name.toLowerCase(), k.toLowerCase()) }))
      .sort((x, y) => x.d - y.d)[0];
    const suggestion = hint && hint.d <= 3 ? ` (did you mean "${hint.k}"?)` : '';
    throw new RedisKitError('ERR_REDISKIT_UNKNOWN_OPTION', `${where}: unknown option "${name}"${suggestion}`, {
      details: { option: `${where}.${name}` },
    });
  }
}

export interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
  /** Strictly greater than min instead of greater or equal. */
  exclusiveMin?: boolean;
}

/** Returns `value` if it is a finite number within the rule, `fallback` if undefined; throws otherwise. */
export function optNumber(where: string, name: string, value: unknown, fallback: number, rule?: NumberRule): number;
export function optNumber(
  where: string,
  name: string,
  value: unknown,
  fallback: number | undefined,
  rule?: NumberRule,
): number | undefined;
export function optNumber(
  where: string,
  name: string,
  value: unknown,
  fallback: number | undefined,
  rule: NumberRule = {},
): number | undefined {
  if (value === undefined) return fallback;
  const parts: string[] = [];
  if (rule.integer) parts.push('an integer');
  else parts.push('a finite number');
  if (rule.min !== undefined) parts.push(`${rule.exclusiveMin ? '>' : '>='} ${rule.min}`);
  if (rule.max !== undefined) parts.push(`<= ${rule.max}`);
  const expected = parts.join(' ');
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(where, name, expected, value);
  if (rule.integer && !Number.isInteger(value)) fail(where, name, expected, value);
  if (rule.min !== undefined && (rule.exclusiveMin ? value <= rule.min : value < rule.min)) {
    fail(where, name, expected, value);
  }
  if (rule.max !== undefined && value > rule.max) fail(where, name, expected, value);
  return value;
}

/** Returns `value` if it is a string (non-empty unless allowed), `fallback` if undefined. */
export function optString(
  where: string,
  name: string,
  value: unknown,
  fallback: string,
  rule?: { allowEmpty?: boolean; pattern?: RegExp; describe?: string },
): string;
export function optString(
  where: string,
  name: string,
  value: unknown,
  fallback: string | undefined,
  rule?: { allowEmpty?: boolean; pattern?: RegExp; describe?: string },
): string | undefined;
export function optString(
  where: string,
  name: string,
  value: unknown,
  fallback: string | undefined,
  rule: { allowEmpty?: boolean; pattern?: RegExp; describe?: string } = {},
): string | undefined {
  if (value === undefined) return fallback;
  const expected = rule.describe ?? (rule.allowEmpty ? 'a string' : 'a non-empty string');
  if (typeof value !== 'string') fail(where, name, expected, value);
  if (!rule.allowEmpty && value.length === 0) fail(where, name, expected, value);
  if (rule.pattern && !rule.pattern.test(value)) fail(where, name, expected, value);
  return value;
}

/** Returns `value` if boolean, `fallback` if undefined. */
export function optBoolean(where: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(where, name, 'true or false', value);
  return value;
}

/** Returns `value` if it is one of `allowed`, `fallback` if undefined. */
export function optEnum<T extends string>(
  where: string,
  name: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    fail(where, name, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, value);
  }
  return value as T;
}

/** Returns `value` if it is a function, `fallback` if undefined. */
export function optFunction<F extends (...args: never[]) => unknown>(
  where: string,
  name: string,
  value: unknown,
  fallback: F,
): F;
export function optFunction<F extends (...args: never[]) => unknown>(
  where: string,
  name: string,
  value: unknown,
  fallback: F | undefined,
): F | undefined;
export function optFunction<F extends (...args: never[]) => unknown>(
  where: string,
  name: string,
  value: unknown,
  fallback: F | undefined,
): F | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'function') fail(where, name, 'a function', value);
  return value as F;
}

/** Throws ERR_REDISKIT_INVALID_OPTION with a custom expectation; for checks the helpers above do not cover. */
export function invalidOption(where: string, name: string, expected: string, value: unknown): never {
  fail(where, name, expected, value);
}
