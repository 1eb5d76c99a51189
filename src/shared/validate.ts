/**
 * Tiny runtime validators for plain data crossing a trust boundary (extension
 * host <-> webview, webview <-> its worker). A validator returns null when the
 * value has the expected shape, else a message naming the first bad path. The
 * object combinator is typed so that every key of the TypeScript type must have
 * a validator of the matching type: the types and the checks cannot drift apart.
 *
 * Pure: no `vscode`, no DOM, no Node.
 */

/** Checks `v`; returns null when valid, else `"<path>: <what was expected>"`. */
export type Validator<T> = ((v: unknown, path: string) => string | null) & { readonly __type?: T };

export type Infer<V> = V extends Validator<infer T> ? T : never;

const fail = (path: string, what: string): string => `${path || '<root>'}: expected ${what}`;

export const str: Validator<string> = (v, p) => (typeof v === 'string' ? null : fail(p, 'a string'));
export const num: Validator<number> = (v, p) => (typeof v === 'number' && Number.isFinite(v) ? null : fail(p, 'a finite number'));
export const int: Validator<number> = (v, p) => (typeof v === 'number' && Number.isInteger(v) ? null : fail(p, 'an integer'));
export const bool: Validator<boolean> = (v, p) => (typeof v === 'boolean' ? null : fail(p, 'a boolean'));
export const nul: Validator<null> = (v, p) => (v === null ? null : fail(p, 'null'));

/** One of the given string (or number) literals. */
export function lit<const L extends ReadonlyArray<string | number>>(...values: L): Validator<L[number]> {
  return (v, p) => ((values as ReadonlyArray<unknown>).includes(v) ? null : fail(p, `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`));
}

export function arr<T>(item: Validator<T>, max = 100_000): Validator<T[]> {
  return (v, p) => {
    if (!Array.isArray(v)) return fail(p, 'an array');
    if (v.length > max) return fail(p, `at most ${max} items`);
    for (let i = 0; i < v.length; i++) {
      const e = item(v[i], `${p}[${i}]`);
      if (e) return e;
    }
    return null;
  };
}

export function optional<T>(inner: Validator<T>): Validator<T | undefined> {
  return (v, p) => (v === undefined ? null : inner(v, p));
}

export function nullable<T>(inner: Validator<T>): Validator<T | null> {
  return (v, p) => (v === null ? null : inner(v, p));
}

export function record<T>(value: Validator<T>): Validator<Record<string, T>> {
  return (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(p, 'an object');
    for (const [k, x] of Object.entries(v)) {
      const e = value(x, `${p}.${k}`);
      if (e) return e;
    }
    return null;
  };
}

type Shape<T> = { [K in keyof T]-?: Validator<T[K]> };

/** A plain object with exactly these keys (optional ones may be missing; unknown keys are rejected). */
export function obj<T>(shape: Shape<T>): Validator<T> {
  const keys = Object.keys(shape) as Array<keyof T & string>;
  return (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(p, 'an object');
    const o = v as Record<string, unknown>;
    for (const k of keys) {
      const e = (shape[k] as Validator<unknown>)(o[k], `${p}.${k}`);
      if (e) return e;
    }
    for (const k of Object.keys(o)) if (!(k in shape)) return `${p}.${k}: unexpected property`;
    return null;
  };
}

/** A union discriminated by `key`: each variant validator is chosen by the tag value. */
export function tagged<T extends Record<K, string>, K extends string>(key: K, variants: { [Tag in T[K]]: Validator<Extract<T, Record<K, Tag>>> }): Validator<T> {
  return (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(p, 'an object');
    const tag = (v as Record<string, unknown>)[key];
    if (typeof tag !== 'string' || !Object.prototype.hasOwnProperty.call(variants, tag)) {
      return fail(`${p}.${key}`, `one of ${Object.keys(variants).map((x) => JSON.stringify(x)).join(', ')}`);
    }
    return (variants as Record<string, Validator<unknown>>)[tag]!(v, p);
  };
}

/** Either of two validators (the first error is reported when both fail). */
export function either<A, B>(a: Validator<A>, b: Validator<B>): Validator<A | B> {
  return (v, p) => {
    const e = a(v, p);
    if (!e) return null;
    return b(v, p) ? e : null;
  };
}

/** Lazily resolved validator (recursive shapes). */
export function lazy<T>(f: () => Validator<T>): Validator<T> {
  return (v, p) => f()(v, p);
}

/** Type guard form: `is(validator, value)`. */
export function is<T>(validator: Validator<T>, v: unknown): v is T {
  return validator(v, '') === null;
}

/** Error message (or null) for `v`. */
export function check<T>(validator: Validator<T>, v: unknown): string | null {
  return validator(v, '');
}
