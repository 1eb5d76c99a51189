/** sleep-in-atomic: see docs/rules/sleep-in-atomic.md. The dataflow (analysis/locks.ts) raises the events; this rule reports them. */
import type { FunctionAnalysis } from '../analysis/locks';
import type { Finding } from '../types';
import { makeFinding } from './common';

export function sleepInAtomic(fa: FunctionAnalysis, file: string): Finding[] {
  if (fa.failed) return [];
  return fa.events.filter((e) => e.rule === 'sleep-in-atomic').map((e) => makeFinding('sleep-in-atomic', file, fa.name, e.at, e.message, e.trace));
}
