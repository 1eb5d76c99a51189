/**
 * `refscope simulate` and `refscope scenarios`: run race-scenario files (or the
 * built-in library) through the exhaustive interleaving explorer.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ScenarioError, parseScenario, type Scenario } from '../core/scenarios/format';
import { findBuiltin, library, parseBuiltin } from '../core/scenarios/library';
import { runCompiled, type SimReport } from '../core/scenarios/run';
import type { SimTraceStep, StateView } from '../core/sim/types';
import { nodeParser } from '../node/assets';
import { CliError, type CliIO } from './io';

export const SIMULATE_USAGE = `usage: refscope simulate [--format text|json] [--builtin ID[/VARIANT]|all]... [--max-states N] [--no-por] [FILE...]

Explores every interleaving of the threads of each scenario file (.rsim) and
prints the verdict: safe (with the number of states explored) or a violation
with a shortest counterexample trace.

  --format FMT      text (default) or json
  --builtin ID      run a library scenario (all its variants; ID/VARIANT for one;
                    'all' for the whole library) - see 'refscope scenarios'
  --max-states N    stop after N states (verdict 'incomplete'); default 500000
  --no-por          disable partial-order reduction

JSON: one object {"scenario","file","expect","verdict","matches","violations":
[{"kind","message","trace":[{"thread","op","file","line","column","note","state"}]}],
"states","ms"} when exactly one scenario runs, otherwise an array of them.

exit status: 0 every verdict matches its 'expect' line, 1 otherwise,
2 usage error or a bad scenario file (reported as FILE:LINE:COL: message)`;

export const SCENARIOS_USAGE = `usage: refscope scenarios [--format text|json]

Lists the built-in race-scenario library: ids, titles and the variant files
(each with its expected verdict). Run one with 'refscope simulate --builtin ID'.`;

interface Options {
  format: 'text' | 'json';
  builtins: string[];
  files: string[];
  maxStates: number | undefined;
  por: boolean;
}

function parseArgs(argv: string[]): Options | 'help' {
  const o: Options = { format: 'text', builtins: [], files: [], maxStates: undefined, por: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new CliError(`${a} needs a value`);
      return v;
    };
    const flag = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    switch (flag) {
      case '--help':
      case '-h':
        return 'help';
      case '--format': {
        const v = value();
        if (v !== 'text' && v !== 'json') throw new CliError(`--format must be text or json (got '${v}')`);
        o.format = v;
        break;
      }
      case '--builtin':
        o.builtins.push(value());
        break;
      case '--max-states': {
        const n = Number.parseInt(value(), 10);
        if (!Number.isFinite(n) || n <= 0) throw new CliError('--max-states needs a positive number');
        o.maxStates = n;
        break;
      }
      case '--no-por':
        o.por = false;
        break;
      default:
        if (a.startsWith('-') && a !== '-') throw new CliError(`unknown option '${a}'`);
        o.files.push(a);
    }
  }
  return o;
}

function stateSummary(s: StateView): string {
  const parts: string[] = [];
  for (const o of s.objects) {
    if (o.state === 'unallocated') continue;
    parts.push(`${o.name}: ref=${o.refcount} ${o.state}${o.in.length ? ` in ${o.in.join(',')}` : ''}${o.rcuPending ? ' rcu-pending' : ''}`);
  }
  const locks = Object.entries(s.locks).map(([l, h]) => `${l}@${h.join('+')}`);
  if (locks.length) parts.push(`locks: ${locks.join(' ')}`);
  if (s.rcuReaders.length) parts.push(`rcu readers: ${s.rcuReaders.join(',')}`);
  if (s.pendingCallbacks.length) parts.push(`callbacks: ${s.pendingCallbacks.length}`);
  return parts.join('; ');
}

function textTrace(trace: SimTraceStep[]): string {
  const w = Math.max(...trace.map((s) => s.thread.length));
  return trace
    .map((s, i) => {
      const where = s.line ? `${s.file}:${s.line}` : '';
      return `    ${String(i + 1).padStart(2)}. ${s.thread.padEnd(w)}  ${s.op}${s.note ? `  -- ${s.note}` : ''}\n        ${where}  [${stateSummary(s.state)}]`;
    })
    .join('\n');
}

function textReport(r: SimReport): string {
  const head = `${r.matches ? 'PASS' : 'FAIL'} ${r.file}: ${r.verdict}${r.verdict === 'safe' ? '' : ` [${r.violations.map((v) => v.kind).join(', ')}]`} (expect ${r.expect}) - ${r.states} states, ${r.ms} ms\n  ${r.scenario}\n`;
  const body = r.violations.map((v) => `  ${v.kind}: ${v.message}\n${textTrace(v.trace)}\n`).join('');
  return head + body;
}

export async function simulateCommand(argv: string[], io: CliIO): Promise<number> {
  const o = parseArgs(argv);
  if (o === 'help') {
    io.stdout(SIMULATE_USAGE + '\n');
    return 0;
  }
  if (o.files.length === 0 && o.builtins.length === 0) throw new CliError('no scenario files (or --builtin ID) given; see refscope simulate --help');
  const parser = await nodeParser();
  const scenarios: Scenario[] = [];
  let bad = false;
  for (const ref of o.builtins) {
    const vs = ref === 'all' ? library().flatMap((e) => e.variants) : findBuiltin(ref);
    if (vs.length === 0) throw new CliError(`no built-in scenario '${ref}' (see refscope scenarios)`);
    for (const v of vs) scenarios.push(parseBuiltin(parser, v));
  }
  for (const f of o.files) {
    let text: string;
    try {
      text = readFileSync(resolve(io.cwd, f), 'utf8');
    } catch (e) {
      io.stderr(`refscope: error: cannot read ${f}: ${(e as NodeJS.ErrnoException).code ?? String(e)}\n`);
      bad = true;
      continue;
    }
    try {
      scenarios.push(parseScenario(parser, text, f));
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      io.stderr(`${e.message}\n`);
      bad = true;
    }
  }
  const reports = scenarios.map((s) => runCompiled(s, { por: o.por, ...(o.maxStates ? { maxStates: o.maxStates } : {}) }));
  if (o.format === 'json') {
    const out = reports.map((r) => ({
      scenario: r.scenario,
      file: r.file,
      expect: r.expect,
      verdict: r.verdict,
      matches: r.matches,
      violations: r.violations,
      states: r.states,
      ms: r.ms,
    }));
    io.stdout(JSON.stringify(out.length === 1 ? out[0] : out, null, 2) + '\n');
  } else {
    for (const r of reports) io.stdout(textReport(r));
    const pass = reports.filter((r) => r.matches).length;
    if (reports.length > 1) io.stdout(`${pass}/${reports.length} scenarios as expected\n`);
  }
  if (bad) return 2;
  return reports.every((r) => r.matches) ? 0 : 1;
}

export async function scenariosCommand(argv: string[], io: CliIO): Promise<number> {
  let format: 'text' | 'json' = 'text';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      io.stdout(SCENARIOS_USAGE + '\n');
      return 0;
    }
    if (a === '--format' || a.startsWith('--format=')) {
      const v = a.includes('=') ? a.slice(9) : argv[++i];
      if (v !== 'text' && v !== 'json') throw new CliError(`--format must be text or json (got '${v ?? ''}')`);
      format = v;
      continue;
    }
    throw new CliError(`unexpected argument '${a}'`);
  }
  const lib = library();
  if (format === 'json') {
    const out = lib.map((e) => ({
      id: e.id,
      title: e.title,
      files: e.variants.map((v) => ({ variant: v.variant, file: v.file, title: v.meta.title, expect: v.meta.expect, rules: v.meta.rules, doc: v.meta.doc })),
    }));
    io.stdout(JSON.stringify(out, null, 2) + '\n');
    return 0;
  }
  for (const e of lib) {
    io.stdout(`${e.id}\n  ${e.title}\n`);
    for (const v of e.variants) io.stdout(`    ${v.variant.padEnd(18)} expect ${v.meta.expect.padEnd(20)} ${v.file}\n`);
  }
  io.stdout(`${lib.length} scenarios\n`);
  return 0;
}
