/**
 * The scenario file format (`.rsim`): a header comment (title, expect, rules,
 * doc, holds-ref, prose), C declarations (object struct, locks, lookup
 * structures, global pointers), an optional `setup()` and 1–4 `thread_*()`
 * functions written with real kernel API names, plus helpers (release
 * functions, RCU callbacks). Parsed with the same tree-sitter C grammar as the
 * rest of Refscope (the parser is injected); errors carry line:column.
 */
import type { CParser } from '../parse/parser';
import { parseKernelC } from '../parse/source';
import { CompileError, ModelCompiler } from '../sim/compile';
import { isViolationKind, VIOLATION_KINDS, type SimModel, type ViolationKind } from '../sim/types';

export type Expectation = 'safe' | ViolationKind;

export interface ScenarioMeta {
  title: string;
  expect: Expectation;
  rules: string[];
  doc: string[];
  holdsRef: string[];
  what: string;
  why: string;
  fix: string;
}

export interface Scenario {
  file: string;
  meta: ScenarioMeta;
  model: SimModel;
}

export class ScenarioError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly detail: string,
  ) {
    super(`${file}:${line}:${column}: ${detail}`);
  }
}

const KEYS = ['title', 'expect', 'rules', 'doc', 'holds-ref', 'what', 'why', 'fix'] as const;
type Key = (typeof KEYS)[number];

interface HeaderLine {
  text: string;
  line: number;
  column: number;
}

/** Lines of the first block comment, with the ` * ` decoration removed (positions kept). */
function headerLines(text: string): HeaderLine[] | null {
  const m = /^\s*\/\*/.exec(text);
  if (!m) return null;
  const start = m[0].length;
  const end = text.indexOf('*/', start);
  if (end < 0) return null;
  const out: HeaderLine[] = [];
  let lineNo = text.slice(0, start).split('\n').length;
  let offset = start;
  for (const raw of text.slice(start, end).split('\n')) {
    const lead = /^\s*\*?\s?/.exec(raw)![0];
    const col = (offset === start ? start - text.lastIndexOf('\n', start - 1) - 1 : 0) + lead.length + 1;
    out.push({ text: raw.slice(lead.length).trimEnd(), line: lineNo, column: col });
    offset += raw.length + 1;
    lineNo++;
  }
  return out;
}

export function parseHeader(text: string, file: string): ScenarioMeta {
  const lines = headerLines(text);
  if (!lines) throw new ScenarioError(file, 1, 1, 'a scenario starts with a header comment (/* title: ... expect ... */)');
  const meta: ScenarioMeta = { title: '', expect: 'safe', rules: [], doc: [], holdsRef: [], what: '', why: '', fix: '' };
  let sawExpect = false;
  let last: Key | null = null;
  const list = (s: string): string[] => s.split(/[,\s]+/).map((x) => x.trim()).filter(Boolean);
  for (const l of lines) {
    const km = /^([a-z-]+):\s*(.*)$/.exec(l.text);
    const em = /^expect\s+(\S+)\s*$/.exec(l.text);
    if (em) {
      const v = em[1]!;
      if (v !== 'safe' && !isViolationKind(v)) {
        throw new ScenarioError(file, l.line, l.column + l.text.indexOf(v), `unknown expectation '${v}' (expected 'safe' or one of: ${VIOLATION_KINDS.join(', ')})`);
      }
      meta.expect = v;
      sawExpect = true;
      last = null;
      continue;
    }
    if (km && (KEYS as readonly string[]).includes(km[1]!)) {
      const key = km[1] as Key;
      const v = km[2]!;
      last = key;
      switch (key) {
        case 'title': meta.title = v; break;
        case 'expect': throw new ScenarioError(file, l.line, l.column, "write 'expect safe' or 'expect <kind>' (no colon)");
        case 'rules': meta.rules.push(...list(v)); break;
        case 'doc': meta.doc.push(v); break;
        case 'holds-ref': meta.holdsRef.push(...list(v)); break;
        case 'what': meta.what = v; break;
        case 'why': meta.why = v; break;
        case 'fix': meta.fix = v; break;
      }
      continue;
    }
    if (l.text === '') {
      last = null;
      continue;
    }
    if (last === 'what' || last === 'why' || last === 'fix') meta[last] = `${meta[last]} ${l.text}`.trim();
    else if (last === 'doc') meta.doc.push(l.text);
  }
  if (!sawExpect) throw new ScenarioError(file, lines[0]?.line ?? 1, 1, "the header needs an 'expect safe' or 'expect <kind>' line");
  if (!meta.title) throw new ScenarioError(file, lines[0]?.line ?? 1, 1, "the header needs a 'title:' line");
  return meta;
}

/** Parse and compile a scenario file. Throws ScenarioError (file:line:col: message). */
export function parseScenario(parser: CParser, text: string, file: string): Scenario {
  const meta = parseHeader(text, file);
  const parsed = parseKernelC(parser, text);
  try {
    const c = new ModelCompiler({ text, file, root: parsed.tree.rootNode, holdsRef: new Set(meta.holdsRef), name: meta.title });
    c.checkSyntax(parsed.tree.rootNode);
    c.collectDeclarations();
    const names = c.functionNames();
    const threads = names.filter((n) => /^thread/.test(n));
    if (threads.length === 0) throw new CompileError("no thread functions (name them 'thread_<role>', e.g. 'void thread_lookup(void)')", 1, 1);
    if (threads.length > 6) throw new CompileError(`too many threads (${threads.length}; at most 6)`, c.functionNode(threads[6]!)!.startPosition.row + 1, 1);
    const setup = names.includes('setup') ? 'setup' : null;
    const model = c.build(meta.title, file, threads, setup);
    return { file, meta, model };
  } catch (e) {
    if (e instanceof CompileError) throw new ScenarioError(file, e.line, e.column, e.message);
    throw e;
  } finally {
    parsed.dispose();
  }
}
