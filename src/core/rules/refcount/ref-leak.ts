/**
 * `ref-leak`: a path returns without releasing or transferring a reference the
 * function obtained (ownership.ts). Reported only for references that some other
 * path of the same function does release or hand over: the function knows the
 * reference is its own, and the leaking path (typically an error return) forgot it.
 * One finding per acquisition, at the return that leaks it, with the path's branches.
 */
import type { Finding } from '../../types';
import { makeFinding } from '../common';
import { ownershipOf } from './ownership';
import { locOf, makeEnv, step, type RefcountRule } from './walk';

export const REF_LEAK = 'ref-leak';

export const refLeak: RefcountRule = (parsed, file, ctx) => {
  const env = makeEnv(parsed, file, ctx);
  const out: Finding[] = [];
  for (const l of ownershipOf(parsed, file, ctx).leaks) {
    const u = l.unit;
    const at = l.exit.at;
    const end = Math.max(at + 1, env.text.indexOf(';', at) + 1 || at + 1);
    out.push(makeFinding(REF_LEAK, file, l.fn, locOf(env, at, Math.min(end, at + 200)),
      `\`${l.fn}\` returns at line ${l.exit.line} still holding the reference on \`${l.v}\` taken at line ${u.line} by \`${u.via}\`: `
      + 'other paths release or hand it over, this one does not. Put it (or goto the error label that does) before returning.',
      [
        step(env, u.at, `reference at line ${u.line}: ${u.via}() gives ${l.v} a reference this function owns`),
        ...l.trace,
        step(env, at, `return at line ${l.exit.line}: the reference on ${l.v} is neither put nor transferred`),
      ]));
  }
  return out;
};
