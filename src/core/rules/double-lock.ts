/** double-lock: see docs/rules/double-lock.md. The dataflow (analysis/locks.ts) raises the events; this rule reports them. */
import type { FunctionAnalysis } from '../analysis/locks';
import type { Finding } from '../types';
import { makeFinding } from './common';

export function doubleLock(fa: FunctionAnalysis, file: string): Finding[] {
  if (fa.failed) return [];
  return fa.events.filter((e) => e.rule === 'double-lock').map((e) => makeFinding('double-lock', file, fa.name, e.at, e.message, e.trace));
}
