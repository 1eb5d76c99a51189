/** `--format json`: the contract's shape, version 1. */
import { describeIncomplete } from '../../core/budget';
import type { Report, ReportFinding } from './shared';

/** One finding as the JSON contract shows it. */
export function jsonFinding(f: ReportFinding): Record<string, unknown> {
  return {
    rule: f.rule,
    severity: f.severity,
    file: f.file,
    line: f.line,
    column: f.column,
    endLine: f.endLine,
    endColumn: f.endColumn,
    function: f.function,
    message: f.message,
    scenario: f.scenario,
    trace: f.trace.map((t) => ({ file: t.file, line: t.line, message: t.message })),
  };
}

export function formatJson(report: Report): string {
  const findings = report.findings.map(jsonFinding);
  const s = report.stats;
  const stats = {
    files: s.files,
    functions: s.functions,
    functionsWithParseDamage: s.functionsWithParseDamage,
    bytes: s.bytes,
    ms: s.ms,
    cpuMs: s.cpuMs,
    functionsNotAnalysed: s.functionsNotAnalysed,
    incomplete: s.incomplete.map((i) => ({ ...i, why: describeIncomplete(i) })),
    filesDirectivesOnly: s.filesDirectivesOnly,
    skipped: s.skipped,
    skippedFiles: s.skippedFiles,
    damagedFunctions: s.damagedFunctions,
    headersSummarized: s.headersSummarized,
    crossFile: s.crossFile,
    ...(s.index ? { index: s.index } : {}),
    ...(s.phasesMs ? { phasesMs: s.phasesMs } : {}),
    ...(s.indexFile ? { indexFile: s.indexFile } : {}),
    ...(s.shard ? { shard: s.shard } : {}),
    slowestFiles: s.slowestFiles,
    jobs: s.jobs,
  };
  return JSON.stringify({ version: 1, findings, stats }, null, 2) + '\n';
}
