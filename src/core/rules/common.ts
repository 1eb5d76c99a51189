/** Helpers shared by the rule files: turn analysis records into Findings. */
import type { Loc } from '../analysis/locks';
import type { Finding, Span, TraceStep } from '../types';
import { ruleMeta } from './registry';

export function spanOf(l: Loc): Span {
  return {
    start: { line: l.line, column: l.column, offset: l.offset },
    end: { line: l.endLine, column: l.endColumn, offset: l.endOffset },
  };
}

export function makeFinding(rule: string, file: string, fn: string, at: Loc, message: string, trace: TraceStep[]): Finding {
  const meta = ruleMeta(rule);
  return {
    rule,
    severity: meta?.defaultSeverity ?? 'warning',
    file,
    span: spanOf(at),
    function: fn,
    message,
    scenario: meta?.scenario ?? null,
    trace,
  };
}
