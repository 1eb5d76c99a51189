/**
 * `--format sarif`: SARIF 2.1.0 for GitHub code scanning. Locations are relative
 * to `%SRCROOT%` (the workspace root, --root); traces become codeFlows.
 */
import { isAbsolute, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RULES } from '../../core/rules/registry';
import type { Severity } from '../../core/types';
import type { Report, ReportFinding } from './shared';

const SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
const INFO_URI = 'https://github.com/refscope/refscope';

function level(s: Severity): 'error' | 'warning' | 'note' {
  return s === 'error' ? 'error' : s === 'warning' ? 'warning' : 'note';
}

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

function fingerprint(f: ReportFinding, rel: string): string {
  // Stable across line moves: rule, file, function and message.
  let h = 2166136261;
  for (const ch of `${f.rule}\0${rel}\0${f.function}\0${f.message}`) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

export function formatSarif(report: Report, resolveAbs: (file: string) => string): string {
  const rules = RULES.map((r) => ({
    id: r.id,
    name: r.name,
    shortDescription: { text: r.shortDescription },
    fullDescription: { text: r.fullDescription },
    helpUri: r.helpUri,
    help: { text: `${r.fullDescription} See ${r.helpUri}` },
    defaultConfiguration: { level: level(r.defaultSeverity) },
    properties: { tags: ['concurrency', 'locking'], ...(r.scenario ? { scenario: r.scenario } : {}) },
  }));
  const index = new Map<string, number>(rules.map((r, i) => [r.id, i]));
  for (const f of report.findings) {
    if (!index.has(f.rule)) {
      index.set(f.rule, rules.length);
      rules.push({
        id: f.rule, name: f.rule, shortDescription: { text: f.rule }, fullDescription: { text: f.rule },
        helpUri: INFO_URI, help: { text: f.rule }, defaultConfiguration: { level: level(f.severity) },
        properties: { tags: ['concurrency'] },
      });
    }
  }
  const results = report.findings.map((f) => {
    const loc = artifact(f.absFile, report.root);
    const region = { startLine: f.line, startColumn: f.column, endLine: f.endLine, endColumn: f.endColumn };
    const result: Record<string, unknown> = {
      ruleId: f.rule,
      ruleIndex: index.get(f.rule),
      level: level(f.severity),
      message: { text: `${f.message} (in ${f.function}())` },
      locations: [{ physicalLocation: { artifactLocation: loc, region }, logicalLocations: [{ name: f.function, kind: 'function' }] }],
      partialFingerprints: { 'refscope/v1': fingerprint(f, loc.uri) },
      properties: { function: f.function, scenario: f.scenario },
    };
    if (f.trace.length) {
      result.codeFlows = [{
        message: { text: `path to the ${f.rule} finding` },
        threadFlows: [{
          locations: f.trace.map((t, i) => ({
            location: {
              physicalLocation: {
                artifactLocation: artifact(resolveAbs(t.file), report.root),
                region: { startLine: Math.max(1, t.line), ...(t.column > 0 ? { startColumn: t.column } : {}) },
              },
              message: { text: t.message },
            },
            executionOrder: i + 1,
            nestingLevel: 0,
          })),
        }],
      }];
    }
    return result;
  });
  const rootUri = pathToFileURL(report.root).href;
  const log = {
    $schema: SCHEMA,
    version: '2.1.0',
    runs: [{
      tool: { driver: { name: 'refscope', version: report.toolVersion, semanticVersion: report.toolVersion, informationUri: INFO_URI, rules } },
      originalUriBaseIds: { '%SRCROOT%': { uri: rootUri.endsWith('/') ? rootUri : rootUri + '/' } },
      columnKind: 'utf16CodeUnits',
      results,
      invocations: [{ executionSuccessful: true }],
    }],
  };
  return JSON.stringify(log, null, 2) + '\n';
}
