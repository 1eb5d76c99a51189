/**
 * `--format sarif`: SARIF 2.1.0 for GitHub code scanning. Locations are relative
 * to `%SRCROOT%` (the workspace root, --root); traces become codeFlows.
 */
import { isAbsolute, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeIncomplete } from '../../core/budget';
import { buildSarif, type SarifFinding } from '../../core/report/sarif';
import { sortSarifLog } from '../merge';
import type { Report, ReportFinding } from './shared';

interface ArtifactLocation {
  uri: string;
  uriBaseId?: string;
}

function artifact(absFile: string, root: string): ArtifactLocation {
  const rel = relative(root, absFile);
  if (rel && !rel.startsWith('..') && !isAbsolute(rel)) {
    return { uri: rel.split(sep).map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' };
  }
  return { uri: pathToFileURL(absFile).href };
}

export function formatSarif(report: Report, resolveAbs: (file: string) => string): string {
  const rootUri = pathToFileURL(report.root).href;
  const findings: SarifFinding[] = report.findings.map((f: ReportFinding) => ({ ...f, file: f.absFile }));
  const log = buildSarif(findings, {
    toolVersion: report.toolVersion,
    artifact: (file) => artifact(resolveAbs(file), report.root),
    rootUri: rootUri.endsWith('/') ? rootUri : rootUri + '/',
    incomplete: report.stats.incomplete.map((i) => ({ file: i.file, function: i.function, line: i.line, text: describeIncomplete(i) })),
  });
  sortSarifLog(log); // the order `refscope merge` gives sharded runs' results
  return JSON.stringify(log, null, 2) + '\n';
}
