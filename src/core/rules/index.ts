/** All rules, in report order. */
import type { FunctionAnalysis } from '../analysis/locks';
import type { Finding } from '../types';
import { doubleLock } from './double-lock';
import { lockLeak } from './lock-leak';
import { sleepInAtomic } from './sleep-in-atomic';
import { unlockUnheld } from './unlock-unheld';

export type Rule = (fa: FunctionAnalysis, file: string) => Finding[];

export const RULE_IMPLEMENTATIONS: Readonly<Record<string, Rule>> = {
  'lock-leak': lockLeak,
  'double-lock': doubleLock,
  'unlock-unheld': unlockUnheld,
  'sleep-in-atomic': sleepInAtomic,
};

export function runRules(fa: FunctionAnalysis, file: string): Finding[] {
  const out: Finding[] = [];
  for (const rule of Object.values(RULE_IMPLEMENTATIONS)) out.push(...rule(fa, file));
  return out;
}
