/** Run a scenario (text or compiled) through the explorer and shape the report. */
import type { CParser } from '../parse/parser';
import { explore } from '../sim/explore';
import type { ExploreOptions, ExploreResult, Verdict, Violation } from '../sim/types';
import { parseScenario, type Expectation, type Scenario } from './format';

export interface SimReport {
  scenario: string;
  file: string;
  expect: Expectation;
  verdict: Verdict;
  /** The verdict matches the `expect` line. */
  matches: boolean;
  violations: Violation[];
  states: number;
  ms: number;
}

export function verdictMatches(expect: Expectation, r: Pick<ExploreResult, 'verdict' | 'violations'>): boolean {
  if (expect === 'safe') return r.verdict === 'safe';
  return r.violations.some((v) => v.kind === expect);
}

export function runCompiled(s: Scenario, options: ExploreOptions = {}): SimReport {
  const t0 = performance.now();
  const r = explore(s.model, options);
  const ms = performance.now() - t0;
  return {
    scenario: s.meta.title,
    file: s.file,
    expect: s.meta.expect,
    verdict: r.verdict,
    matches: verdictMatches(s.meta.expect, r),
    violations: r.violations,
    states: r.states,
    ms: Math.round(ms * 100) / 100,
  };
}

/** Parse and run. Throws ScenarioError on a bad file. */
export function runScenario(parser: CParser, text: string, file: string, options: ExploreOptions = {}): SimReport {
  return runCompiled(parseScenario(parser, text, file), options);
}
