/** unlock-unheld: see docs/rules/unlock-unheld.md. The dataflow (analysis/locks.ts) raises the events; this rule reports them. */
import type { FunctionAnalysis } from '../analysis/locks';
import type { Finding } from '../types';
import { makeFinding } from './common';

export function unlockUnheld(fa: FunctionAnalysis, file: string): Finding[] {
  if (fa.failed) return [];
  return fa.events.filter((e) => e.rule === 'unlock-unheld').map((e) => makeFinding('unlock-unheld', file, fa.name, e.at, e.message, e.trace));
}
