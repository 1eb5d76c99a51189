/**
 * `use-after-put`: an object is dereferenced, has a field read or written, or is
 * passed on after a put that dropped the last reference this function is known
 * to hold (ownership.ts). A parameter counts as held by the caller: a get + put
 * pair on it leaves the caller's reference, but a put of the caller's reference
 * (or of the only reference the function obtained) followed by a use is the
 * `kref_put(); obj->x` bug of Documentation/core-api/kref.rst. Puts whose result
 * is tested (`if (kref_put(...))`, `*_dec_and_test`) are release paths that own
 * the object exclusively and are not reported; neither are release callbacks.
 */
import type { Finding } from '../../types';
import { makeFinding } from '../common';
import { ownershipOf } from './ownership';
import { locOf, makeEnv, step, type RefcountRule } from './walk';

export const USE_AFTER_PUT = 'use-after-put';

export const useAfterPut: RefcountRule = (parsed, file, ctx) => {
  const env = makeEnv(parsed, file, ctx);
  const out: Finding[] = [];
  for (const r of ownershipOf(parsed, file, ctx).uses) {
    const got = r.put.got;
    out.push(makeFinding(USE_AFTER_PUT, file, r.fn, locOf(env, r.use.at, r.use.end),
      `\`${r.fn}\` ${r.use.how} at line ${r.use.line} after \`${r.put.via}\` at line ${r.put.line} dropped the last reference it held on \`${r.v}\`: `
      + 'another thread may drop its reference meanwhile and free the object. Use it before the put, or hold another reference.',
      [
        ...(got ? [step(env, got.at, `reference at line ${got.line}: ${got.via}() gives ${r.v} the reference this function holds`)] : []),
        step(env, r.put.at, `put at line ${r.put.line}: ${r.put.via}() drops it; no other reference is known to be held here`),
        ...r.trace.filter((t) => t.line > r.put.line && t.line < r.use.line),
        step(env, r.use.at, `use at line ${r.use.line}: ${r.use.how}`),
      ]));
  }
  return out;
};
