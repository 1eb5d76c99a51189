/** `--format text`: GCC/ESLint style, one line per finding, indented trace, summary. */
import { describeIncomplete } from '../../core/budget';
import type { Report } from './shared';

export function formatText(report: Report): string {
  const out: string[] = [];
  for (const f of report.findings) {
    out.push(`${f.file}:${f.line}:${f.column}: ${f.severity}: ${f.message} [${f.rule}]`);
    for (const t of f.trace) out.push(`    ${t.file}:${t.line}: ${t.message}`);
  }
  for (const s of report.stats.skippedFiles) out.push(`${s.file}: skipped: ${s.reason}`);
  for (const i of report.stats.incomplete) out.push(`${i.file}:${i.line}: note: ${i.function}: ${describeIncomplete(i)}; no findings from it [analysis-incomplete]`);
  out.push(summaryLine(report));
  return out.join('\n') + '\n';
}

export function summaryLine(report: Report): string {
  const s = report.stats;
  const files = new Set(report.findings.map((f) => f.file)).size;
  const n = report.findings.length;
  const pct = s.functions ? ((100 * s.functionsWithParseDamage) / s.functions).toFixed(2) : '0.00';
  const parts = [
    `${n} finding${n === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}`,
    `(${s.files} file${s.files === 1 ? '' : 's'} checked, ${s.functions} functions, ${s.functionsWithParseDamage} with parse damage = ${pct}%`,
  ];
  let tail = '';
  if (s.functionsNotAnalysed) tail += `, ${s.functionsNotAnalysed} not analysed`;
  if (s.skipped) tail += `, ${s.skipped} skipped`;
  tail += `, ${(s.ms / 1000).toFixed(1)}s`;
  if (s.index) tail += `; index: ${s.index.files} files, ${s.index.learnedWrappers.get} get / ${s.index.learnedWrappers.put} put wrappers learned`;
  tail += ')';
  return `${parts[0]} ${parts[1]}${tail}`;
}
