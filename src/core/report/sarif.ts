/**
 * SARIF 2.1.0 log of Refscope findings (GitHub code scanning), pure: the host
 * says how a file becomes an artifact location (the CLI: relative to
 * `%SRCROOT%` with node:path; the editor: workspace-relative URIs). Traces
 * become codeFlows. Shared by `refscope check --format sarif` and the
 * editor's "Export Findings as SARIF".
 */
import { RULES } from '../rules/registry';
import type { Severity } from '../types';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
const INFO_URI = 'https://github.com/refscope/refscope';

export interface SarifArtifactLocation {
  uri: string;
  uriBaseId?: string;
}

export interface SarifFinding {
  rule: string;
  severity: Severity;
  /** The file as the host names it (passed to `artifact`). */
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  function: string;
  message: string;
  scenario: string | null;
  trace: Array<{ file: string; line: number; column: number; message: string }>;
}

export interface SarifOptions {
  toolVersion: string;
  /** Location of a finding's or trace step's file. */
  artifact(file: string): SarifArtifactLocation;
  /** URI of `%SRCROOT%` (ends with `/`), or undefined when no location is relative. */
  rootUri?: string;
  /**
   * Functions whose analysis stopped early (no findings from them): reported as
   * `toolExecutionNotifications` of level `note`, so a code-scanning upload
   * shows where Refscope did not look, not only what it found.
   */
  incomplete?: ReadonlyArray<{ file: string; function: string; line: number; text: string }>;
}

function level(s: Severity): 'error' | 'warning' | 'note' {
  return s === 'error' ? 'error' : s === 'warning' ? 'warning' : 'note';
}

function fingerprint(f: SarifFinding, rel: string): string {
  // Stable across line moves: rule, file, function and message.
  let h = 2166136261;
  for (const ch of `${f.rule}\0${rel}\0${f.function}\0${f.message}`) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** The SARIF log object (serialise with JSON.stringify). */
export function buildSarif(findings: readonly SarifFinding[], opts: SarifOptions): Record<string, unknown> {
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
  for (const f of findings) {
    if (!index.has(f.rule)) {
      index.set(f.rule, rules.length);
      rules.push({
        id: f.rule, name: f.rule, shortDescription: { text: f.rule }, fullDescription: { text: f.rule },
        helpUri: INFO_URI, help: { text: f.rule }, defaultConfiguration: { level: level(f.severity) },
        properties: { tags: ['concurrency'] },
      });
    }
  }
  const results = findings.map((f) => {
    const loc = opts.artifact(f.file);
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
                artifactLocation: opts.artifact(t.file),
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
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [{
      tool: { driver: { name: 'refscope', version: opts.toolVersion, semanticVersion: opts.toolVersion, informationUri: INFO_URI, rules } },
      ...(opts.rootUri ? { originalUriBaseIds: { '%SRCROOT%': { uri: opts.rootUri } } } : {}),
      columnKind: 'utf16CodeUnits',
      results,
      invocations: [{
        executionSuccessful: true,
        ...(opts.incomplete?.length ? {
          toolExecutionNotifications: opts.incomplete.map((i) => ({
            descriptor: { id: 'analysis-incomplete' },
            level: 'note',
            message: { text: `${i.function}(): ${i.text}; no findings from it` },
            locations: [{
              physicalLocation: { artifactLocation: opts.artifact(i.file), region: { startLine: Math.max(1, i.line) } },
              logicalLocations: [{ name: i.function, kind: 'function' }],
            }],
          })),
        } : {}),
      }],
    }],
  };
}
