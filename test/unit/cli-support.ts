/** Helpers for the CLI and corpus tests: run the built CLI, validate SARIF. */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import Ajv from 'ajv-draft-04';
import { INCLUDE_LINE, type Include } from '../../src/cli/knowledge';
import addFormats from 'ajv-formats';

export const REPO = resolve(__dirname, '..', '..');
export const CLI = join(REPO, 'dist', 'cli.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], cwd = REPO, timeoutMs = 120_000): CliRun {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 512 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Build dist/ once per test process (the CLI tests run the bundle, as users do). */
let built = false;
export function ensureBuilt(): void {
  if (built) return;
  const r = spawnSync(process.execPath, [join(REPO, 'scripts', 'build.mjs')], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
  built = true;
}

/**
 * The official SARIF 2.1.0 schema (sarif-2.1.0-rtm.5.json, the OASIS standard's
 * final schema, JSON Schema draft-04) as shipped in @microsoft/jest-sarif.
 */
export function sarifValidator(): (data: unknown) => string[] {
  const req = createRequire(__filename);
  const schemaPath = join(req.resolve('@microsoft/jest-sarif/package.json'), '..', 'lib', 'schemas', 'sarif-2.1.0-rtm.5.json');
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<string, unknown>;
  // unicodeRegExp off: the schema's `language` pattern is not a valid /u regular expression.
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  return (data) => (validate(data) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`));
}

export interface JsonFinding {
  rule: string;
  severity: string;
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  function: string;
  message: string;
  scenario: string | null;
  trace: { file: string; line: number; message: string }[];
}

export interface JsonReport {
  version: number;
  findings: JsonFinding[];
  stats: {
    files: number;
    functions: number;
    functionsWithParseDamage: number;
    bytes: number;
    ms: number;
    skipped: number;
    skippedFiles: { file: string; reason: string }[];
  };
}

/** Check the JSON contract's keys and types; returns the problems found. */
export function contractProblems(j: JsonReport): string[] {
  const p: string[] = [];
  if (j.version !== 1) p.push(`version ${String(j.version)}`);
  for (const k of ['files', 'functions', 'functionsWithParseDamage', 'bytes', 'ms'] as const) {
    if (typeof j.stats?.[k] !== 'number') p.push(`stats.${k} missing`);
  }
  const keys = ['rule', 'severity', 'file', 'line', 'column', 'endLine', 'endColumn', 'function', 'message', 'scenario', 'trace'];
  for (const f of j.findings ?? []) {
    for (const k of keys) if (!(k in f)) p.push(`finding without ${k}: ${JSON.stringify(f)}`);
    for (const k of ['line', 'column', 'endLine', 'endColumn'] as const) if (!Number.isInteger(f[k]) || f[k] < 1) p.push(`bad ${k} in ${JSON.stringify(f)}`);
    if (f.scenario !== null && typeof f.scenario !== 'string') p.push(`bad scenario ${JSON.stringify(f)}`);
    for (const t of f.trace) if (typeof t.file !== 'string' || !Number.isInteger(t.line) || typeof t.message !== 'string') p.push(`bad trace step ${JSON.stringify(t)}`);
  }
  for (let i = 1; i < (j.findings ?? []).length; i++) {
    const a = j.findings[i - 1]!;
    const b = j.findings[i]!;
    const order = a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0);
    if (order > 0) p.push(`findings not sorted at ${i}`);
  }
  return p;
}

/** The Linux 6.12 tree of ../shared/tools/kernel-source (or $KERNEL_SRC); throws when it cannot be had: tests that need it fail, never skip. */
export function kernelTree(): string {
  if (process.env.KERNEL_SRC) return resolve(process.env.KERNEL_SRC);
  const tool = resolve(REPO, '..', 'shared', 'tools', 'kernel-source');
  if (!existsSync(tool)) {
    throw new Error(`cannot obtain the Linux 6.12 source: ${tool} is missing (expected ../shared/tools/kernel-source beside the repository, or set KERNEL_SRC)`);
  }
  let out: string;
  try {
    out = execFileSync('bash', [tool], { encoding: 'utf8', timeout: 20 * 60_000, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (e) {
    throw new Error(`cannot obtain the Linux 6.12 source: ${tool} failed: ${(e as Error).message.split('\n')[0]}`);
  }
  const tree = out.split('\n').at(-1)!;
  if (!existsSync(join(tree, 'Makefile'))) throw new Error(`cannot obtain the Linux 6.12 source: ${tool} printed '${tree}', which is not a kernel tree`);
  return tree;
}

/** The includes of a text as the reference pattern of src/cli/knowledge.ts reads them (what its fast scan must match). */
export function referenceIncludes(text: string): Include[] {
  const out: Include[] = [];
  INCLUDE_LINE.lastIndex = 0;
  for (let m = INCLUDE_LINE.exec(text); m; m = INCLUDE_LINE.exec(text)) out.push({ angled: m[1] === '<', name: m[2]!.trim() });
  return out;
}
