/**
 * The typed messages between the extension host (src/vscode/panel.ts) and the
 * lifecycle webview (media/), in both directions, plus the webview's persisted
 * state and the messages between the webview and its exploration worker. Every
 * message is plain data and is validated at runtime on receipt (`parseToWebview`,
 * `parseToHost`, ...): a message that does not match is dropped and reported.
 *
 * The simulator's types (SimModel, SimTraceStep, Violation) are the core's own
 * plain data; the shapes here mirror them and the validators check them.
 *
 * Pure: no `vscode`, no DOM, no Node.
 */
import type { Instr, OpCode, SimModel, SimTraceStep, StateView, Verdict, Violation, ViolationKind } from '../core/sim/types';
import { VIOLATION_KINDS } from '../core/sim/types';
import { arr, bool, check, int, lit, nullable, num, obj, optional, record, tagged, type Validator } from './validate';

export const PROTOCOL_VERSION = 1;
/** The webview panel type (also the serializer's key). */
export const PANEL_VIEW_TYPE = 'refscope.lifecycle';

/* ------------------------------------------------------------ what the panel is about */

export type RoleKind = 'lookup' | 'unpublish' | 'put';

export interface RoleView {
  name: string;
  kind: RoleKind;
  function: string;
  file: string;
  line: number;
  structure?: string;
  summary: string;
}

export interface ReleaseView {
  function: string;
  file: string;
  line: number;
  locks: string[];
  frees: string;
  unpublishes: string[];
}

export interface LookupView {
  function: string;
  file: string;
  line: number;
  structure: string;
  protectedBy: string;
  get: string;
  via?: string;
}

export interface SiteView {
  function: string;
  file: string;
  line: number;
  via: string;
}

export interface StructureView {
  id: string;
  kind: string;
  rcu: boolean;
  holdsRef: boolean;
  readLocks: string[];
  writeLocks: string[];
  publish: SiteView[];
  unpublish: SiteView[];
}

/** The object view of a refcounted type (from the core's LifecycleModel, without the programs). */
export interface LifecycleView {
  type: string;
  refcountField: string;
  counterKind: string;
  /** Where the struct is defined, when known. */
  definedAt?: { file: string; line: number };
  gets: string[];
  puts: string[];
  releaseCallbacks: ReleaseView[];
  lookups: LookupView[];
  structures: StructureView[];
  roles: RoleView[];
}

export type Expectation = 'safe' | ViolationKind;

export interface ScenarioVariantView {
  variant: string;
  title: string;
  expect: Expectation;
}

/** A library scenario (one variant selected). */
export interface ScenarioView {
  id: string;
  variant: string;
  file: string;
  title: string;
  expect: Expectation;
  rules: string[];
  doc: string[];
  what: string;
  why: string;
  fix: string;
  /** Thread functions of the selected variant. */
  threads: string[];
  variants: ScenarioVariantView[];
}

export interface LibraryItem {
  id: string;
  title: string;
  variants: ScenarioVariantView[];
}

export type Subject = { kind: 'lifecycle'; lifecycle: LifecycleView } | { kind: 'scenario'; scenario: ScenarioView };

/* ------------------------------------------------------------ results */

export interface RunResult {
  runId: number;
  /** What ran: role names, or `scenario <id>/<variant>`. */
  label: string;
  roles: string[];
  /** Set for library scenarios. */
  scenario?: { id: string; variant: string; expect: Expectation };
  verdict: Verdict;
  violations: Violation[];
  states: number;
  transitions: number;
  stoppedBecause: 'max-states' | 'cancelled' | null;
  ms: number;
}

/* ------------------------------------------------------------ host -> webview */

export type ToWebview =
  | { type: 'init'; version: number; subject: Subject; library: LibraryItem[] }
  /** Explore this model (in the webview's worker) and show the result. */
  | { type: 'explore'; runId: number; label: string; roles: string[]; scenario?: { id: string; variant: string; expect: Expectation }; model: SimModel; maxStates: number }
  /** A result computed elsewhere (shown as is). */
  | { type: 'result'; result: RunResult }
  /** The host could not build what the run asked for. */
  | { type: 'runError'; runId: number; message: string }
  /** Select a violation and step (keyboard-free driving, e.g. from tests or a diagnostic). */
  | { type: 'select'; violation: number; step: number };

/* ------------------------------------------------------------ webview -> host */

export type RunStatus = 'started' | 'done' | 'cancelled' | 'failed';

export type ToHost =
  | { type: 'ready'; version: number }
  /** Run these roles of the lifecycle subject (2-4 names). */
  | { type: 'runRoles'; runId: number; roles: string[] }
  /** Run a library scenario variant. */
  | { type: 'runScenario'; runId: number; scenario: string; variant: string }
  | { type: 'runStatus'; runId: number; status: RunStatus; verdict?: Verdict; states?: number; kinds?: ViolationKind[]; message?: string }
  /** Show a source line: `focus` false highlights it and keeps the focus in the panel (step selected), true moves the focus and selection there (location clicked). */
  | { type: 'reveal'; file: string; line: number; column: number; focus: boolean }
  /** Switch the scenario subject to another variant. */
  | { type: 'showVariant'; scenario: string; variant: string };

/* ------------------------------------------------------------ webview <-> worker */

export type ToWorker = { type: 'explore'; runId: number; model: SimModel; maxStates: number };
export type FromWorker =
  | { type: 'progress'; runId: number; states: number }
  | { type: 'done'; runId: number; verdict: Verdict; violations: Violation[]; states: number; transitions: number; stoppedBecause: 'max-states' | 'cancelled' | null; ms: number }
  | { type: 'failed'; runId: number; message: string };

/* ------------------------------------------------------------ persisted webview state */

export interface PanelState {
  version: number;
  subject: Subject | null;
  library: LibraryItem[];
  selectedRoles: string[];
  libraryChoice: string;
  result: RunResult | null;
  violation: number;
  step: number;
}

/* ------------------------------------------------------------ validators */

const MAX_TEXT = 4096;
const text: Validator<string> = (v, p) => (typeof v === 'string' && v.length <= MAX_TEXT ? null : `${p}: expected a string of at most ${MAX_TEXT} characters`);
const line: Validator<number> = (v, p) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? null : `${p}: expected a line number`);
const texts = arr(text, 10_000);
const expectation: Validator<Expectation> = lit('safe', ...VIOLATION_KINDS);
const verdict: Validator<Verdict> = lit('safe', 'violation', 'incomplete');
const violationKind: Validator<ViolationKind> = lit(...VIOLATION_KINDS);
const stopped = nullable(lit('max-states', 'cancelled'));

const roleView = obj<RoleView>({ name: text, kind: lit('lookup', 'unpublish', 'put'), function: text, file: text, line, structure: optional(text), summary: text });
const releaseView = obj<ReleaseView>({ function: text, file: text, line, locks: texts, frees: text, unpublishes: texts });
const lookupView = obj<LookupView>({ function: text, file: text, line, structure: text, protectedBy: text, get: text, via: optional(text) });
const siteView = obj<SiteView>({ function: text, file: text, line, via: text });
const structureView = obj<StructureView>({ id: text, kind: text, rcu: bool, holdsRef: bool, readLocks: texts, writeLocks: texts, publish: arr(siteView), unpublish: arr(siteView) });
export const lifecycleView = obj<LifecycleView>({
  type: text, refcountField: text, counterKind: text, definedAt: optional(obj({ file: text, line })), gets: texts, puts: texts,
  releaseCallbacks: arr(releaseView), lookups: arr(lookupView), structures: arr(structureView), roles: arr(roleView),
});
const variantView = obj<ScenarioVariantView>({ variant: text, title: text, expect: expectation });
const scenarioView = obj<ScenarioView>({
  id: text, variant: text, file: text, title: text, expect: expectation, rules: texts, doc: texts, what: text, why: text, fix: text, threads: texts, variants: arr(variantView),
});
const libraryItem = obj<LibraryItem>({ id: text, title: text, variants: arr(variantView) });
const subject = tagged<Subject, 'kind'>('kind', {
  lifecycle: obj({ kind: lit('lifecycle'), lifecycle: lifecycleView }),
  scenario: obj({ kind: lit('scenario'), scenario: scenarioView }),
});

const stateView = obj<StateView>({
  objects: arr(obj({ name: text, refcount: int, state: lit('unallocated', 'allocated', 'published', 'released', 'freed'), in: texts, rcuPending: bool })),
  locks: record(texts),
  rcuReaders: texts,
  pendingCallbacks: texts,
});
const traceStep = obj<SimTraceStep>({ thread: text, op: text, file: text, line, column: line, note: text, state: stateView });
const violation = obj<Violation>({ kind: violationKind, message: text, trace: arr(traceStep, 20_000) });
const scenarioRef = obj({ id: text, variant: text, expect: expectation });
export const runResult = obj<RunResult>({
  runId: int, label: text, roles: texts, scenario: optional(scenarioRef), verdict, violations: arr(violation, 64), states: int, transitions: int, stoppedBecause: stopped, ms: num,
});

/* The simulator model: checked structurally (every instruction has a known op, a source and numeric/string operands). */
const OPS: readonly OpCode[] = [
  'nop', 'choice', 'test', 'assign', 'alloc', 'set', 'inc', 'inc_not_zero', 'dec', 'dec_and_test', 'dec_not_one', 'access', 'free', 'call_rcu',
  'rcu_lock', 'rcu_unlock', 'sync_rcu', 'rcu_barrier', 'lock', 'trylock', 'unlock', 'publish', 'unpublish', 'unpublish_key', 'lookup', 'sleep', 'ret',
];
const simSource = obj({ file: text, line, column: line, text });
const operand: Validator<unknown> = (v, p) => {
  if (typeof v !== 'object' || v === null) return `${p}: expected an operand`;
  const keys = Object.keys(v);
  const val = (v as Record<string, unknown>)[keys[0] ?? ''];
  return keys.length === 1 && (keys[0] === 'var' || keys[0] === 'const') && typeof val === 'number' ? null : `${p}: expected {var: n} or {const: n}`;
};
const instr: Validator<Instr> = (v, p) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${p}: expected an instruction`;
  const o = v as Record<string, unknown>;
  if (!OPS.includes(o.op as OpCode)) return `${p}.op: unknown op`;
  const e = simSource(o.src, `${p}.src`);
  if (e) return e;
  for (const [k, x] of Object.entries(o)) {
    if (k === 'op' || k === 'src') continue;
    if ((k === 'a' || k === 'b' || k === 'value') && typeof x === 'object') {
      const oe = operand(x, `${p}.${k}`);
      if (oe) return oe;
      continue;
    }
    if (x === null || x === undefined) continue; // `lookup` of any key (null), absent optional slots
    if (typeof x === 'number' ? !Number.isInteger(x) : typeof x !== 'string' && typeof x !== 'boolean') return `${p}.${k}: expected a number, string or boolean`;
  }
  return null;
};
const program = obj({ name: text, instrs: arr(instr, 100_000), slots: texts, role: lit('thread', 'callback') });
export const simModel = obj<SimModel>({
  name: text,
  file: text,
  locks: arr(obj({ name: text, kind: lit('mutex', 'spinlock', 'rwlock', 'rwsem') })),
  structs: arr(obj({ name: text, kind: lit('list', 'hlist', 'idr', 'xarray', 'hash'), holdsRef: bool })),
  globals: arr(obj({ name: text, holdsRef: bool })),
  sites: arr(obj({ name: text, src: simSource })),
  programs: arr(program, 64),
  threads: arr(int, 16),
  setup: nullable(int),
});

const toWebview = tagged<ToWebview, 'type'>('type', {
  init: obj({ type: lit('init'), version: int, subject, library: arr(libraryItem) }),
  explore: obj({ type: lit('explore'), runId: int, label: text, roles: texts, scenario: optional(scenarioRef), model: simModel, maxStates: int }),
  result: obj({ type: lit('result'), result: runResult }),
  runError: obj({ type: lit('runError'), runId: int, message: text }),
  select: obj({ type: lit('select'), violation: int, step: int }),
});

const toHost = tagged<ToHost, 'type'>('type', {
  ready: obj({ type: lit('ready'), version: int }),
  runRoles: obj({ type: lit('runRoles'), runId: int, roles: arr(text, 4) }),
  runScenario: obj({ type: lit('runScenario'), runId: int, scenario: text, variant: text }),
  runStatus: obj({ type: lit('runStatus'), runId: int, status: lit('started', 'done', 'cancelled', 'failed'), verdict: optional(verdict), states: optional(int), kinds: optional(arr(violationKind)), message: optional(text) }),
  reveal: obj({ type: lit('reveal'), file: text, line, column: line, focus: bool }),
  showVariant: obj({ type: lit('showVariant'), scenario: text, variant: text }),
});

const toWorker = tagged<ToWorker, 'type'>('type', { explore: obj({ type: lit('explore'), runId: int, model: simModel, maxStates: int }) });
const fromWorker = tagged<FromWorker, 'type'>('type', {
  progress: obj({ type: lit('progress'), runId: int, states: int }),
  done: obj({ type: lit('done'), runId: int, verdict, violations: arr(violation, 64), states: int, transitions: int, stoppedBecause: stopped, ms: num }),
  failed: obj({ type: lit('failed'), runId: int, message: text }),
});

export const panelState = obj<PanelState>({
  version: int, subject: nullable(subject), library: arr(libraryItem), selectedRoles: texts, libraryChoice: text, result: nullable(runResult), violation: int, step: int,
});

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

function parser<T>(v: Validator<T>): (data: unknown) => Parsed<T> {
  return (data) => {
    const error = check(v, data);
    return error === null ? { ok: true, value: data as T } : { ok: false, error };
  };
}

export const parseToWebview = parser(toWebview);
export const parseToHost = parser(toHost);
export const parseToWorker = parser(toWorker);
export const parseFromWorker = parser(fromWorker);
export const parsePanelState = parser(panelState);

/* ------------------------------------------------------------ shared wording */

const KIND_TEXT: Record<ViolationKind, string> = {
  'use-after-free': 'use after free',
  'increment-from-zero': 'increment from zero (resurrection)',
  underflow: 'refcount underflow',
  'double-free': 'double free',
  'double-call-rcu': 'double call_rcu',
  deadlock: 'deadlock',
  'leaked-reference': 'leaked reference',
  'lock-held-at-exit': 'lock held at thread exit',
  'unlock-unheld': 'unlock of a lock not held',
  'sleep-in-atomic': 'sleep in atomic context',
};

export function violationText(k: ViolationKind): string {
  return KIND_TEXT[k];
}

/** What "safe" means: none of the checked properties was violated in any reachable state. */
export function safeProperty(): string {
  return `no ${VIOLATION_KINDS.map((k) => KIND_TEXT[k]).join(', ')} in any interleaving`;
}
