/**
 * `refscope merge OUT IN...`: joins the outputs of `refscope check --shard K/N`
 * runs (all JSON or all SARIF) into the output one unsharded run prints: the
 * findings (JSON) or results and notifications (SARIF) of every input, without
 * duplicates, in the order `check` prints them. JSON stats are summed (wall
 * time: the slowest shard's).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { cmp, compareFindings, type FindingOrderKey } from './format/shared';
import { CliError, type CliIO } from './io';

export const MERGE_USAGE = `usage: refscope merge [--format json|sarif] OUT IN...

Merge the JSON or SARIF outputs of sharded runs (refscope check --shard K/N
--format json|sarif) into OUT ('-' for stdout), identical to what one
unsharded run prints (JSON stats are summed; wall time is the slowest
shard's). Inputs must all be JSON or all SARIF, from the same refscope version
and --root. The format is --format, else OUT's extension (.json, .sarif), else
the inputs'.

exit status: 0 no findings, 1 findings, 2 usage or I/O error`;

type Json = Record<string, unknown>;

function physical(loc: unknown): { uri: string; line: number; column: number; endLine: number; endColumn: number } {
  const p = (loc as { physicalLocation?: { artifactLocation?: { uri?: string }; region?: Record<string, number> } } | undefined)?.physicalLocation;
  const r = p?.region ?? {};
  let uri = p?.artifactLocation?.uri ?? '';
  try {
    uri = decodeURIComponent(uri);
  } catch {
    // keep it encoded
  }
  return { uri, line: r['startLine'] ?? 0, column: r['startColumn'] ?? 0, endLine: r['endLine'] ?? 0, endColumn: r['endColumn'] ?? 0 };
}

/** The order of SARIF results: file, position, rule, end, function, message (`check` prints them so too). */
export function compareSarifResults(a: Json, b: Json): number {
  const pa = physical((a['locations'] as unknown[] | undefined)?.[0]);
  const pb = physical((b['locations'] as unknown[] | undefined)?.[0]);
  const fa = String((a['properties'] as Json | undefined)?.['function'] ?? '');
  const fb = String((b['properties'] as Json | undefined)?.['function'] ?? '');
  const ma = String((a['message'] as Json | undefined)?.['text'] ?? '');
  const mb = String((b['message'] as Json | undefined)?.['text'] ?? '');
  return cmp(pa.uri, pb.uri) || pa.line - pb.line || pa.column - pb.column || cmp(String(a['ruleId']), String(b['ruleId'])) ||
    pa.endLine - pb.endLine || pa.endColumn - pb.endColumn || cmp(fa, fb) || cmp(ma, mb);
}

/** The order of SARIF tool notifications (analysis-incomplete notes): file, line, text. */
export function compareSarifNotifications(a: Json, b: Json): number {
  const pa = physical((a['locations'] as unknown[] | undefined)?.[0]);
  const pb = physical((b['locations'] as unknown[] | undefined)?.[0]);
  return cmp(pa.uri, pb.uri) || pa.line - pb.line ||
    cmp(String((a['message'] as Json | undefined)?.['text'] ?? ''), String((b['message'] as Json | undefined)?.['text'] ?? ''));
}

/** Puts a SARIF log's results and notifications in the merge order (in place). */
export function sortSarifLog(log: Json): void {
  for (const run of (log['runs'] as Json[] | undefined) ?? []) {
    (run['results'] as Json[] | undefined)?.sort(compareSarifResults);
    for (const inv of (run['invocations'] as Json[] | undefined) ?? []) (inv['toolExecutionNotifications'] as Json[] | undefined)?.sort(compareSarifNotifications);
  }
}

/** Drops exact duplicates (the same finding from overlapping inputs), keeping the first. */
function unique<T>(items: T[], key: (t: T) => string = (t) => JSON.stringify(t)): T[] {
  const seen = new Set<string>();
  return items.filter((t) => {
    const k = key(t);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

type Input = { name: string; kind: 'json'; doc: Json } | { name: string; kind: 'sarif'; doc: Json };

function readInput(path: string, cwd: string): Input {
  let text: string;
  try {
    text = readFileSync(resolve(cwd, path), 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${path}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new CliError(`${path} is not JSON (expected refscope check --format json or sarif output)`);
  }
  if (isObject(doc) && doc['version'] === '2.1.0' && Array.isArray(doc['runs'])) {
    const runs = doc['runs'] as unknown[];
    const driver = isObject(runs[0]) && isObject(runs[0]['tool']) ? (runs[0]['tool'] as Json)['driver'] : undefined;
    if (runs.length !== 1 || !isObject(driver) || driver['name'] !== 'refscope') throw new CliError(`${path} is SARIF, but not one run of refscope`);
    return { name: path, kind: 'sarif', doc };
  }
  if (isObject(doc) && doc['version'] === 1 && Array.isArray(doc['findings']) && isObject(doc['stats'])) return { name: path, kind: 'json', doc };
  throw new CliError(`${path} is neither refscope JSON (version 1) nor SARIF 2.1.0`);
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function mergeJson(inputs: Input[]): { text: string; findings: number } {
  const findings = unique(inputs.flatMap((i) => arr(i.doc['findings']) as FindingOrderKey[])).sort(compareFindings);
  const stats = inputs.map((i) => i.doc['stats'] as Json);
  const sum = (k: string): number => stats.reduce((s, x) => s + num(x[k]), 0);
  const first = stats[0]!;
  const incomplete = unique(stats.flatMap((s) => arr(s['incomplete']) as Json[]))
    .sort((a, b) => cmp(String(a['file']), String(b['file'])) || num(a['line']) - num(b['line']) || cmp(String(a['analysis']), String(b['analysis'])));
  const skippedFiles = unique(stats.flatMap((s) => arr(s['skippedFiles']) as Json[])).sort((a, b) => cmp(String(a['file']), String(b['file'])));
  const slowest = stats.flatMap((s) => arr(s['slowestFiles']) as Json[])
    .sort((a, b) => num(b['ms']) - num(a['ms']) || cmp(String(a['file']), String(b['file']))).slice(0, 10);
  let index: Json | undefined;
  if (isObject(first['index'])) {
    index = { ...first['index'] };
    index['refcountFiles'] = stats.reduce((s, x) => s + num((x['index'] as Json | undefined)?.['refcountFiles']), 0);
    index['refcountMs'] = stats.reduce((s, x) => s + num((x['index'] as Json | undefined)?.['refcountMs']), 0);
  }
  const merged = {
    files: sum('files'),
    functions: sum('functions'),
    functionsWithParseDamage: sum('functionsWithParseDamage'),
    bytes: sum('bytes'),
    ms: Math.max(...stats.map((s) => num(s['ms']))),
    cpuMs: sum('cpuMs'),
    functionsNotAnalysed: sum('functionsNotAnalysed'),
    incomplete,
    filesDirectivesOnly: sum('filesDirectivesOnly'),
    skipped: skippedFiles.length,
    skippedFiles,
    damagedFunctions: [...new Set(stats.flatMap((s) => arr(s['damagedFunctions']) as string[]))].sort(cmp),
    headersSummarized: sum('headersSummarized'),
    crossFile: first['crossFile'],
    ...(index ? { index } : {}),
    slowestFiles: slowest,
    jobs: Math.max(...stats.map((s) => num(s['jobs']))),
    merged: inputs.length,
  };
  return { text: JSON.stringify({ version: 1, findings, stats: merged }, null, 2) + '\n', findings: findings.length };
}

function mergeSarif(inputs: Input[]): { text: string; findings: number } {
  const runs = inputs.map((i) => ((i.doc['runs'] as Json[])[0])!);
  const first = runs[0]!;
  const driverOf = (r: Json): Json => (r['tool'] as Json)['driver'] as Json;
  const version = driverOf(first)['version'];
  const base = JSON.stringify(first['originalUriBaseIds'] ?? null);
  runs.forEach((r, i) => {
    if (driverOf(r)['version'] !== version) throw new CliError(`${inputs[i]!.name} is from refscope ${String(driverOf(r)['version'])}, ${inputs[0]!.name} from ${String(version)}`);
    if (JSON.stringify(r['originalUriBaseIds'] ?? null) !== base) throw new CliError(`${inputs[i]!.name} and ${inputs[0]!.name} were made with different --root`);
  });
  // Rules: the union by id, in the first input's order.
  const rules: Json[] = [];
  const ruleAt = new Map<string, number>();
  for (const r of runs) {
    for (const rule of arr(driverOf(r)['rules']) as Json[]) {
      const id = String(rule['id']);
      if (!ruleAt.has(id)) {
        ruleAt.set(id, rules.length);
        rules.push(rule);
      }
    }
  }
  const results = unique(runs.flatMap((r) => arr(r['results']) as Json[]), (x) => JSON.stringify({ ...x, ruleIndex: undefined }))
    .map((x) => ({ ...x, ruleIndex: ruleAt.get(String(x['ruleId'])) }))
    .sort(compareSarifResults);
  const notes = unique(runs.flatMap((r) => arr(r['invocations']).flatMap((inv) => arr((inv as Json)['toolExecutionNotifications']) as Json[])))
    .sort(compareSarifNotifications);
  const ok = runs.every((r) => arr(r['invocations']).every((inv) => (inv as Json)['executionSuccessful'] !== false));
  const run: Json = {};
  for (const [k, v] of Object.entries(first)) {
    if (k === 'tool') run[k] = { ...(v as Json), driver: { ...driverOf(first), rules } };
    else if (k === 'results') run[k] = results;
    else if (k === 'invocations') run[k] = [{ executionSuccessful: ok, ...(notes.length ? { toolExecutionNotifications: notes } : {}) }];
    else run[k] = v;
  }
  const log: Json = {};
  for (const [k, v] of Object.entries(inputs[0]!.doc)) log[k] = k === 'runs' ? [run] : v;
  return { text: JSON.stringify(log, null, 2) + '\n', findings: results.length };
}

export async function mergeCommand(argv: string[], io: CliIO): Promise<number> {
  let format: 'json' | 'sarif' | undefined;
  const pos: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') {
      io.stdout(MERGE_USAGE + '\n');
      return 0;
    }
    if (a === '--format' || a === '-f' || a.startsWith('--format=')) {
      const v = a.startsWith('--format=') ? a.slice('--format='.length) : argv[++i];
      if (v !== 'json' && v !== 'sarif') throw new CliError(`--format needs json or sarif, got '${v ?? ''}'`);
      format = v;
      continue;
    }
    if (a.startsWith('-') && a !== '-') throw new CliError(`unknown option '${a}' (see refscope merge --help)`);
    pos.push(a);
  }
  const [out, ...ins] = pos;
  if (out === undefined || ins.length === 0) throw new CliError('merge needs OUT and at least one IN (usage: refscope merge [--format json|sarif] OUT IN...)');
  const inputs = ins.map((p) => readInput(p, io.cwd));
  const kind = inputs[0]!.kind;
  const other = inputs.find((i) => i.kind !== kind);
  if (other) throw new CliError(`${other.name} is ${other.kind.toUpperCase()}, ${inputs[0]!.name} is ${kind.toUpperCase()}: merge inputs of one format`);
  const byExt = /\.sarif$/i.test(out) ? 'sarif' : /\.json$/i.test(out) ? 'json' : undefined;
  const want = format ?? byExt ?? kind;
  if (want !== kind) throw new CliError(`the inputs are ${kind.toUpperCase()}; ${out} asks for ${want.toUpperCase()} (merge does not convert; run check with --format ${want})`);
  const merged = kind === 'json' ? mergeJson(inputs) : mergeSarif(inputs);
  if (out === '-') io.stdout(merged.text);
  else {
    const abs = resolve(io.cwd, out);
    const tmp = join(dirname(abs), `.${basename(abs)}.${process.pid}.tmp`);
    try {
      writeFileSync(tmp, merged.text);
      renameSync(tmp, abs);
    } catch (e) {
      throw new CliError(`cannot write ${out}: ${(e as Error).message}`);
    }
  }
  return merged.findings ? 1 : 0;
}
