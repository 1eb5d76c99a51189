/** Output of a patch review (`check --since/--range/--patch`): text, JSON, SARIF. */
import { isAbsolute, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeImpact } from '../core/review/lifecycle';
import { buildSarif, type SarifFinding } from '../core/report/sarif';
import type { Format } from './check';
import type { Report, ReportFinding } from './format/shared';
import { jsonFinding } from './format/json';
import type { LifecycleReview } from './review-lifecycle';
import { VERSION } from './version';

export interface ReviewSection {
  /** `HEAD~2..HEAD (...)` or `patch 1/2: subject`. */
  title: string;
  /** 1-based position in a --patch series. */
  patch?: number;
  subject?: string;
  /** New at the head end. */
  introduced: ReportFinding[];
  /** Present at the base end only (lines refer to the base end). */
  fixed: ReportFinding[];
  unchanged: number;
  filesBase: number;
  filesHead: number;
  /** Absolute workspace root (SARIF %SRCROOT%). */
  root: string;
  baseReport: Report | null;
  headReport: Report | null;
  /** Lifecycle impact (null with --no-index). */
  lifecycle: LifecycleReview | null;
}

type Status = 'new' | 'fixed';

interface Row {
  f: ReportFinding;
  status: Status;
  section: ReviewSection;
}

function rows(sections: ReviewSection[]): Row[] {
  return sections.flatMap((s) => [
    ...s.introduced.map((f) => ({ f, status: 'new' as const, section: s })),
    ...s.fixed.map((f) => ({ f, status: 'fixed' as const, section: s })),
  ]);
}

function counts(s: ReviewSection): string {
  return `${s.introduced.length} new, ${s.fixed.length} fixed, ${s.unchanged} unchanged (${s.filesHead} file${s.filesHead === 1 ? '' : 's'} checked at the newer end, ${s.filesBase} at the older)`;
}

function text(sections: ReviewSection[], ms: number): string {
  const out: string[] = [];
  for (const s of sections) {
    out.push(`${s.title}: ${counts(s)}`);
    for (const [status, list] of [['NEW', s.introduced], ['FIXED', s.fixed]] as const) {
      for (const f of list) {
        out.push(`${status} ${f.file}:${f.line}:${f.column}: ${f.severity}: ${f.message} [${f.rule}]${status === 'FIXED' ? ' (line at the older end)' : ''}`);
        for (const t of f.trace) out.push(`    ${t.file}:${t.line}: ${t.message}`);
      }
    }
    for (const i of s.lifecycle?.impacts ?? []) {
      const tag = i.status === 'introduces' ? 'RACE NEW' : i.status === 'fixes' ? 'RACE FIXED' : i.status === 'changes' ? 'LIFECYCLE CHANGED' : 'LIFECYCLE';
      out.push(`${tag} ${i.type}: ${describeImpact(i)}; touched: ${i.touched.join(', ')}`);
      for (const c of i.changes) {
        if (!c.violation) continue;
        out.push(`    ${c.roles.join(' + ')}: ${c.violation.kind}: ${c.violation.message}${c.status === 'fixes' ? ' (at the older end)' : ''}`);
        c.violation.trace.forEach((t, n) => out.push(`      ${String(n + 1).padStart(2)}. ${t.thread}: ${t.op}${t.note ? `  -- ${t.note}` : ''}  (${t.file}:${t.line})`));
      }
    }
  }
  const n = sections.reduce((a, s) => a + s.introduced.length, 0);
  const x = sections.reduce((a, s) => a + s.fixed.length, 0);
  const races = sections.flatMap((s) => s.lifecycle?.impacts ?? []);
  const lc = races.length ? `; lifecycle: ${races.filter((i) => i.status === 'introduces').length} race${races.filter((i) => i.status === 'introduces').length === 1 ? '' : 's'} introduced, ${races.filter((i) => i.status === 'fixes').length} fixed, ${races.filter((i) => i.status === 'unchanged').length} type${races.filter((i) => i.status === 'unchanged').length === 1 ? '' : 's'} unchanged` : '';
  out.push(`review: ${n} new, ${x} fixed${lc}${sections.length > 1 ? ` over ${sections.length} patches` : ''} (${(ms / 1000).toFixed(1)}s)`);
  return out.join('\n') + '\n';
}

function json(sections: ReviewSection[], ms: number, cpuMs: number): string {
  const findings = rows(sections).map(({ f, status, section }) => ({
    status,
    ...(section.patch !== undefined ? { patch: section.patch } : {}),
    ...jsonFinding(f),
  }));
  const review = sections.map((s) => ({
    title: s.title,
    ...(s.patch !== undefined ? { patch: s.patch, subject: s.subject } : {}),
    new: s.introduced.length,
    fixed: s.fixed.length,
    unchanged: s.unchanged,
    files: { base: s.filesBase, head: s.filesHead },
    ms: { base: s.baseReport?.stats.ms ?? 0, head: s.headReport?.stats.ms ?? 0, lifecycle: s.lifecycle?.ms ?? 0 },
    // Headers read for the workspace index at each end, and how many came from the facts cache
    // (the ends run at once and share the headers through it).
    headers: {
      base: { read: s.baseReport?.stats.index?.headers ?? 0, cached: s.baseReport?.stats.index?.cachedFacts ?? 0 },
      head: { read: s.headReport?.stats.index?.headers ?? 0, cached: s.headReport?.stats.index?.cachedFacts ?? 0 },
    },
    lifecycle: lifecycleJson(s.lifecycle),
  }));
  return JSON.stringify({ version: 1, review, findings, stats: { ms, cpuMs } }, null, 2) + '\n';
}

/** Lifecycle impacts as plain JSON (null when not checked: --no-index). */
function lifecycleJson(l: LifecycleReview | null): unknown {
  if (!l) return null;
  return l.impacts.map((i) => ({
    type: i.type,
    status: i.status,
    summary: describeImpact(i),
    touched: i.touched,
    verdict: { base: i.base, head: i.head },
    combinations: i.combinations,
    changes: i.changes.map((c) => ({
      roles: c.roles,
      status: c.status,
      base: { verdict: c.base, kinds: c.baseKinds },
      head: { verdict: c.head, kinds: c.headKinds },
      ...(c.violation ? { violation: { kind: c.violation.kind, message: c.violation.message, trace: c.violation.trace.map((t) => ({ thread: t.thread, op: t.op, file: t.file, line: t.line, note: t.note })) } } : {}),
    })),
  }));
}

function artifact(absFile: string, root: string): { uri: string; uriBaseId?: string } {
  const rel = relative(root, absFile);
  if (rel && !rel.startsWith('..') && !isAbsolute(rel)) return { uri: rel.split(sep).map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' };
  return { uri: pathToFileURL(absFile).href };
}

/**
 * SARIF: every new result has baselineState "new", every fixed one "absent"
 * (SARIF 2.1.0 §3.27.24: in the baseline run, not in the current one; its
 * location is in the older revision). Unchanged results are not listed.
 */
function sarif(sections: ReviewSection[], cwd: string, root: string): string {
  const all = rows(sections);
  const absOf = new Map<string, string>();
  for (const r of all) absOf.set(r.f.file, r.f.absFile);
  const findings: SarifFinding[] = all.map(({ f }) => ({ ...f, file: f.absFile }));
  const rootUri = pathToFileURL(root).href;
  const log = buildSarif(findings, {
    toolVersion: VERSION,
    artifact: (file) => artifact(isAbsolute(file) ? file : absOf.get(file) ?? `${cwd}/${file}`, root),
    rootUri: rootUri.endsWith('/') ? rootUri : rootUri + '/',
  });
  const runs = log.runs as Array<{ results: Array<Record<string, unknown>> }>;
  runs[0]!.results.forEach((res, i) => {
    const r = all[i]!;
    res.baselineState = r.status === 'new' ? 'new' : 'absent';
    res.properties = { ...(res.properties as Record<string, unknown>), status: r.status, ...(r.section.patch !== undefined ? { patch: r.section.patch, patchSubject: r.section.subject } : {}) };
  });
  // Lifecycle verdict changes are about a type, not a source location: run properties (SARIF 2.1.0 §3.8).
  const lifecycle = sections.flatMap((s) => ((lifecycleJson(s.lifecycle) ?? []) as object[]).map((x) => ({ ...(s.patch !== undefined ? { patch: s.patch } : {}), ...x })));
  if (lifecycle.length) (runs[0] as Record<string, unknown>).properties = { ...((runs[0] as Record<string, unknown>).properties as object), lifecycleImpact: lifecycle };
  return JSON.stringify(log, null, 2) + '\n';
}

export function formatReview(sections: ReviewSection[], format: Format, o: { cwd: string; root: string; ms: number; cpuMs: number }): string {
  if (format === 'json') return json(sections, o.ms, o.cpuMs);
  if (format === 'sarif') return sarif(sections, o.cwd, o.root);
  return text(sections, o.ms);
}
