/// <reference lib="dom" />
/**
 * The lifecycle webview (bundled as dist/webview.js): the object view, the run
 * controls, and the result with its swimlane timeline, state panel, step
 * controls and lifecycle diagram. Talks to the extension host only through the
 * typed, validated messages of src/shared/protocol.ts; keeps its state with
 * setState so a hidden panel and a reloaded window come back as they were.
 *
 * Everything that comes from source files (identifiers, op texts, comments,
 * file names) is rendered as text: see dom.ts.
 */
import type { SimTraceStep, Violation } from '../src/core/sim/types';
import {
  PROTOCOL_VERSION, parsePanelState, parseToWebview, safeProperty, violationText,
  type LifecycleView, type PanelState, type RunResult, type ScenarioView, type Subject, type ToHost, type ToWebview,
} from '../src/shared/protocol';
import { lifecycleDiagram } from './diagram';
import { baseName, clear, h, icon } from './dom';
import { Runner } from './runner';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const PLAY_MS = 700;

function subjectKey(s: Subject | null): string {
  if (!s) return '';
  return s.kind === 'lifecycle' ? `lifecycle:${s.lifecycle.type}` : `scenario:${s.scenario.id}/${s.scenario.variant}`;
}

/** 12345 -> "12,345" (toLocaleString is slow to start in a fresh page). */
function fmt(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function emptyState(): PanelState {
  return { version: PROTOCOL_VERSION, subject: null, library: [], selectedRoles: [], libraryChoice: '', result: null, violation: 0, step: 0 };
}

class App {
  private st: PanelState;
  private readonly runner = new Runner();
  private nextRunId = 1;
  private pendingRun = -1;
  private progressStates = 0;
  private playTimer: ReturnType<typeof setInterval> | null = null;
  private saveTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly reveals = new WeakMap<Element, { file: string; line: number; column: number }>();
  private rows: HTMLElement[] = [];
  private runMessage = '';
  private scrollFrame = 0;

  private readonly titleEl = h('h1', { id: 'title' });
  private readonly subtitleEl = h('p', { class: 'subtitle' });
  private readonly objectEl = h('section', { id: 'object', class: 'card', 'aria-labelledby': 'object-h' });
  private readonly runEl = h('section', { id: 'run', class: 'card', 'aria-labelledby': 'run-h' });
  private readonly resultEl = h('section', { id: 'result', class: 'card', 'aria-labelledby': 'result-h' });
  private readonly statusEl = h('div', { id: 'run-status', role: 'status', 'aria-live': 'polite' });
  // Result parts updated on every step.
  private timelineEl: HTMLElement | null = null;
  private stateEl: HTMLElement | null = null;
  private diagramEl: HTMLElement | null = null;
  private counterEl: HTMLElement | null = null;
  private playBtn: HTMLButtonElement | null = null;
  private stepBtns: { first: HTMLButtonElement; prev: HTMLButtonElement; next: HTMLButtonElement; last: HTMLButtonElement } | null = null;

  constructor(
    private readonly api: VsCodeApi,
    root: HTMLElement,
  ) {
    const restored = parsePanelState(api.getState());
    this.st = restored.ok && restored.value.version === PROTOCOL_VERSION ? restored.value : emptyState();
    clear(root);
    root.append(
      h('header', { class: 'head' }, this.titleEl, this.subtitleEl),
      this.objectEl,
      this.runEl,
      this.resultEl,
    );
    root.addEventListener('click', (e) => this.onClick(e));
    document.addEventListener('keydown', (e) => this.onKey(e));
    window.addEventListener('message', (e: MessageEvent<unknown>) => this.onMessage(e.data));
    this.renderAll();
    this.post({ type: 'ready', version: PROTOCOL_VERSION });
  }

  /* ---------------------------------------------------------- messaging */

  private post(m: ToHost): void {
    this.api.postMessage(m);
  }

  private onMessage(data: unknown): void {
    const p = parseToWebview(data);
    if (!p.ok) {
      console.warn(`refscope: ignored an invalid message (${p.error})`);
      return;
    }
    this.handle(p.value);
  }

  private handle(m: ToWebview): void {
    switch (m.type) {
      case 'init': {
        const same = subjectKey(m.subject) === subjectKey(this.st.subject);
        this.st = {
          ...this.st,
          subject: m.subject,
          library: m.library,
          ...(same ? {} : { result: null, violation: 0, step: 0, selectedRoles: defaultRoles(m.subject) }),
        };
        if (!this.st.libraryChoice && m.library[0]) this.st.libraryChoice = `${m.library[0].id}/${m.library[0].variants[0]?.variant ?? ''}`;
        this.renderAll();
        this.save();
        return;
      }
      case 'explore': {
        this.pendingRun = m.runId;
        this.progressStates = 0;
        this.runMessage = '';
        this.post({ type: 'runStatus', runId: m.runId, status: 'started' });
        const t = { label: m.label, roles: m.roles, scenario: m.scenario };
        this.runner.start(m.runId, m.model, m.maxStates, {
          progress: (n) => {
            this.progressStates = n;
            this.renderStatus();
          },
          done: (r) => {
            this.pendingRun = -1;
            this.showResult({
              runId: m.runId, label: t.label, roles: t.roles, ...(t.scenario ? { scenario: t.scenario } : {}),
              verdict: r.verdict, violations: r.violations, states: r.states, transitions: r.transitions, stoppedBecause: r.stoppedBecause, ms: r.ms,
            });
            this.post({ type: 'runStatus', runId: m.runId, status: 'done', verdict: r.verdict, states: r.states, kinds: r.violations.map((v) => v.kind) });
          },
          failed: (message) => {
            this.pendingRun = -1;
            this.runMessage = `The exploration failed: ${message}`;
            this.renderStatus();
            this.renderRunButtons();
            this.post({ type: 'runStatus', runId: m.runId, status: 'failed', message });
          },
        });
        this.renderStatus();
        this.renderRunButtons();
        return;
      }
      case 'result':
        this.pendingRun = -1;
        this.showResult(m.result);
        return;
      case 'runError':
        if (m.runId !== this.pendingRun) return;
        this.pendingRun = -1;
        this.runMessage = m.message;
        this.renderStatus();
        this.renderRunButtons();
        return;
      case 'select':
        if (!this.st.result) return;
        this.selectViolation(m.violation, false);
        this.selectStep(m.step, true);
        return;
    }
  }

  private save(now = false): void {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    if (now) this.api.setState(this.st);
    else this.saveTimer = setTimeout(() => this.api.setState(this.st), 150);
  }

  /* ---------------------------------------------------------- running */

  private requestRoles(): void {
    const runId = this.nextRunId++;
    this.pendingRun = runId;
    this.progressStates = 0;
    this.runMessage = '';
    this.post({ type: 'runRoles', runId, roles: this.st.selectedRoles });
    this.renderStatus();
    this.renderRunButtons();
  }

  private requestScenario(ref: string): void {
    const [id, variant] = ref.split('/');
    if (!id || !variant) return;
    const runId = this.nextRunId++;
    this.pendingRun = runId;
    this.progressStates = 0;
    this.runMessage = '';
    this.post({ type: 'runScenario', runId, scenario: id, variant });
    this.renderStatus();
    this.renderRunButtons();
  }

  private cancelRun(): void {
    const id = this.pendingRun;
    this.runner.cancel();
    this.pendingRun = -1;
    this.runMessage = 'Cancelled.';
    if (id >= 0) this.post({ type: 'runStatus', runId: id, status: 'cancelled' });
    this.renderStatus();
    this.renderRunButtons();
  }

  private showResult(r: RunResult): void {
    this.stopPlay();
    this.st.result = r;
    this.st.violation = 0;
    this.st.step = Math.max(0, (r.violations[0]?.trace.length ?? 1) - 1);
    this.runMessage = '';
    this.renderStatus();
    this.renderRunButtons();
    this.renderResult();
    this.save();
  }

  /* ---------------------------------------------------------- events */

  private onClick(e: MouseEvent): void {
    const t = e.target instanceof Element ? e.target : null;
    if (!t) return;
    const link = t.closest('.reveal');
    if (link) {
      const loc = this.reveals.get(link);
      if (loc) {
        const row = link.closest('[role="option"]');
        if (row) this.selectStep(this.rows.indexOf(row as HTMLElement), false);
        this.post({ type: 'reveal', file: loc.file, line: loc.line, column: loc.column, focus: true });
      }
      return;
    }
    const row = t.closest('.timeline [role="option"]');
    if (row) {
      const i = this.rows.indexOf(row as HTMLElement);
      if (i >= 0) this.selectStep(i, true);
    }
  }

  private onKey(e: KeyboardEvent): void {
    if (!this.st.result || !this.currentTrace().length) return;
    const t = e.target instanceof Element ? e.target : null;
    if (t && t.closest('input, select, textarea')) return;
    const onButton = !!t && !!t.closest('button');
    const n = this.currentTrace().length;
    let handled = true;
    switch (e.key) {
      case 'ArrowDown':
      case 'ArrowRight':
        this.stopPlay();
        this.selectStep(this.st.step + 1, true);
        break;
      case 'ArrowUp':
      case 'ArrowLeft':
        this.stopPlay();
        this.selectStep(this.st.step - 1, true);
        break;
      case 'Home':
        this.stopPlay();
        this.selectStep(0, true);
        break;
      case 'End':
        this.stopPlay();
        this.selectStep(n - 1, true);
        break;
      case ' ':
        if (onButton) handled = false; // the button's own activation
        else this.togglePlay();
        break;
      default:
        handled = false;
    }
    if (handled) e.preventDefault();
  }

  /* ---------------------------------------------------------- selection */

  private currentViolation(): Violation | undefined {
    return this.st.result?.violations[this.st.violation];
  }

  private currentTrace(): SimTraceStep[] {
    return this.currentViolation()?.trace ?? [];
  }

  private selectViolation(i: number, announce: boolean): void {
    const r = this.st.result;
    if (!r || !r.violations.length) return;
    const k = Math.max(0, Math.min(i, r.violations.length - 1));
    if (k === this.st.violation && this.timelineEl) return;
    this.stopPlay();
    this.st.violation = k;
    this.st.step = Math.max(0, (r.violations[k]?.trace.length ?? 1) - 1);
    this.renderResult();
    if (announce) this.revealStep();
    this.save();
  }

  /** Selects a step; `reveal` highlights its line in the editor (keeping the focus here). */
  private selectStep(i: number, reveal: boolean): void {
    const trace = this.currentTrace();
    if (!trace.length) return;
    const k = Math.max(0, Math.min(i, trace.length - 1));
    const old = this.rows[this.st.step];
    if (old) {
      old.classList.remove('selected');
      old.setAttribute('aria-selected', 'false');
    }
    this.st.step = k;
    const row = this.rows[k];
    if (row) {
      row.classList.add('selected');
      row.setAttribute('aria-selected', 'true');
      this.timelineEl?.setAttribute('aria-activedescendant', row.id);
      this.scrollToRow(row);
    }
    this.renderStep();
    if (reveal) this.revealStep();
    this.save();
  }

  /** Keeps the selected row visible, in the next frame (no forced layout while stepping). */
  private scrollToRow(row: HTMLElement): void {
    if (this.scrollFrame) cancelAnimationFrame(this.scrollFrame);
    this.scrollFrame = requestAnimationFrame(() => {
      this.scrollFrame = 0;
      const tl = this.timelineEl;
      if (!tl || !row.isConnected) return;
      const top = row.offsetTop;
      const bottom = top + row.offsetHeight;
      if (top < tl.scrollTop) tl.scrollTop = top;
      else if (bottom > tl.scrollTop + tl.clientHeight) tl.scrollTop = bottom - tl.clientHeight;
    });
  }

  private revealStep(): void {
    const s = this.currentTrace()[this.st.step];
    if (s && s.line > 0) this.post({ type: 'reveal', file: s.file, line: s.line, column: s.column, focus: false });
  }

  private togglePlay(): void {
    if (this.playTimer) {
      this.stopPlay();
      return;
    }
    const n = this.currentTrace().length;
    if (!n) return;
    if (this.st.step >= n - 1) this.selectStep(0, true);
    this.playTimer = setInterval(() => {
      if (this.st.step >= this.currentTrace().length - 1) {
        this.stopPlay();
        return;
      }
      this.selectStep(this.st.step + 1, true);
    }, PLAY_MS);
    this.renderPlay();
  }

  private stopPlay(): void {
    if (!this.playTimer) return;
    clearInterval(this.playTimer);
    this.playTimer = null;
    this.renderPlay();
  }

  /* ---------------------------------------------------------- rendering */

  private link(file: string, line: number, label?: string, column = 1, titled = true): HTMLButtonElement {
    const text = label ?? `${baseName(file)}:${line}`;
    const b = h('button', { type: 'button', class: 'reveal link', title: titled ? `Open ${file}:${line}` : null }, text);
    this.reveals.set(b, { file, line, column });
    return b;
  }

  private renderAll(): void {
    const s = this.st.subject;
    if (!s) {
      this.titleEl.textContent = 'Refscope lifecycle';
      this.subtitleEl.textContent = 'Waiting for the object…';
    } else if (s.kind === 'lifecycle') {
      this.titleEl.textContent = `Lifecycle of ${s.lifecycle.type}`;
      this.subtitleEl.textContent = 'Simulate the threads that look the object up, take and drop references and release it, in every interleaving.';
    } else {
      this.titleEl.textContent = s.scenario.title;
      this.subtitleEl.textContent = `Race scenario ${s.scenario.id} (${s.scenario.variant}): expected verdict ${s.scenario.expect === 'safe' ? 'safe' : violationText(s.scenario.expect)}.`;
    }
    this.renderObject();
    this.renderRun();
    this.renderResult();
  }

  private renderObject(): void {
    clear(this.objectEl);
    const s = this.st.subject;
    if (!s) {
      this.objectEl.hidden = true;
      return;
    }
    this.objectEl.hidden = false;
    if (s.kind === 'lifecycle') this.renderLifecycle(s.lifecycle);
    else this.renderScenario(s.scenario);
  }

  private renderLifecycle(lm: LifecycleView): void {
    const el = this.objectEl;
    el.append(h('h2', { id: 'object-h' }, icon('symbol-structure'), ' Object'));
    const dl = h('dl', { class: 'facts' });
    const row = (k: string, ...v: Array<Node | string>): void => {
      dl.append(h('dt', {}, k), h('dd', {}, ...v));
    };
    row('Type', h('code', {}, lm.type), ...(lm.definedAt ? [' ', this.link(lm.definedAt.file, lm.definedAt.line)] : []));
    row('Refcount field', h('code', {}, lm.refcountField), ` (${lm.counterKind})`);
    if (lm.gets.length) row('Get', lm.gets.join(', '));
    if (lm.puts.length) row('Put', lm.puts.join(', '));
    el.append(dl);

    el.append(h('h3', {}, 'Release callbacks'));
    if (!lm.releaseCallbacks.length) el.append(h('p', { class: 'muted' }, 'None found.'));
    else {
      const ul = h('ul', { class: 'items' });
      for (const r of lm.releaseCallbacks) {
        const does: string[] = [];
        if (r.locks.length) does.push(`takes ${r.locks.join(', ')}`);
        if (r.unpublishes.length) does.push(`removes it from ${r.unpublishes.join(', ')}`);
        does.push(`frees it with ${r.frees}`);
        ul.append(h('li', {}, h('code', {}, r.function), ' ', this.link(r.file, r.line), h('div', { class: 'detail' }, does.join('; '))));
      }
      el.append(ul);
    }

    el.append(h('h3', {}, 'Lookup structures'));
    if (!lm.structures.length) el.append(h('p', { class: 'muted' }, 'None found.'));
    else {
      const ul = h('ul', { class: 'items' });
      for (const st of lm.structures) {
        const prot = [st.writeLocks.length ? `changed under ${st.writeLocks.join(', ')}` : 'changed without a lock seen', st.readLocks.length ? `read under ${st.readLocks.join(', ')}` : ''].filter(Boolean).join('; ');
        const li = h('li', {}, h('code', {}, st.id), ` (${st.kind}${st.rcu ? ', RCU' : ''}) `, h('span', { class: st.holdsRef ? 'badge ok' : 'badge warn' }, st.holdsRef ? 'holds a reference' : 'holds no reference'), h('div', { class: 'detail' }, prot));
        const sites = [...st.publish.map((p) => ['publish', p] as const), ...st.unpublish.map((p) => ['unpublish', p] as const)].slice(0, 8);
        if (sites.length) {
          const d = h('div', { class: 'detail' });
          sites.forEach(([k, p], i) => d.append(i ? ', ' : '', `${k} in `, h('code', {}, p.function), ' ', this.link(p.file, p.line)));
          li.append(d);
        }
        ul.append(li);
      }
      el.append(ul);
    }

    if (lm.lookups.length) {
      el.append(h('h3', {}, 'Lookups'));
      const ul = h('ul', { class: 'items' });
      for (const l of lm.lookups) ul.append(h('li', {}, h('code', {}, l.function), ' ', this.link(l.file, l.line), h('div', { class: 'detail' }, `${l.structure}, protected by ${l.protectedBy}; reference: ${l.get}`)));
      el.append(ul);
    }

    el.append(h('h3', {}, 'Roles found in the code'));
    if (!lm.roles.length) el.append(h('p', { class: 'muted' }, 'No roles: no lookup, unpublish or put of this type was found.'));
    else {
      const ul = h('ul', { class: 'items' });
      for (const r of lm.roles) ul.append(h('li', {}, h('span', { class: `badge role-${r.kind}` }, r.kind), ' ', h('code', {}, r.function), ' ', this.link(r.file, r.line), h('div', { class: 'detail' }, r.summary)));
      el.append(ul);
    }
  }

  private renderScenario(sc: ScenarioView): void {
    const el = this.objectEl;
    el.append(h('h2', { id: 'object-h' }, icon('book'), ' Scenario'));
    const dl = h('dl', { class: 'facts' });
    const row = (k: string, ...v: Array<Node | string>): void => {
      dl.append(h('dt', {}, k), h('dd', {}, ...v));
    };
    row('File', this.link(sc.file, 1, sc.file));
    row('Expected', sc.expect === 'safe' ? 'safe' : violationText(sc.expect));
    if (sc.rules.length) row('Rules', sc.rules.join(', '));
    row('Threads', sc.threads.join(', '));
    if (sc.what) row('What', sc.what);
    if (sc.why) row('Why', sc.why);
    if (sc.fix) row('Fix', sc.fix);
    if (sc.doc.length) row('Documentation', sc.doc.join(' '));
    el.append(dl);
  }

  private renderRun(): void {
    const el = this.runEl;
    clear(el);
    const s = this.st.subject;
    if (!s) {
      el.hidden = true;
      return;
    }
    el.hidden = false;
    el.append(h('h2', { id: 'run-h' }, icon('play'), ' Run'));
    if (s.kind === 'lifecycle') {
      const roles = s.lifecycle.roles;
      const fs = h('fieldset', { class: 'roles' }, h('legend', {}, 'Threads: pick 2 to 4 roles'));
      for (const r of roles) {
        const id = `role-${roles.indexOf(r)}`;
        const cb = h('input', { type: 'checkbox', id, value: r.name });
        cb.checked = this.st.selectedRoles.includes(r.name);
        cb.addEventListener('change', () => {
          const sel = new Set(this.st.selectedRoles);
          if (cb.checked) sel.add(r.name);
          else sel.delete(r.name);
          this.st.selectedRoles = roles.map((x) => x.name).filter((n) => sel.has(n));
          this.renderRunButtons();
          this.save();
        });
        fs.append(h('div', { class: 'role' }, cb, h('label', { for: id }, h('span', { class: `badge role-${r.kind}` }, r.kind), ' ', h('code', {}, r.function), ' ', h('span', { class: 'muted' }, r.summary))));
      }
      const runBtn = h('button', { type: 'button', id: 'run-roles', class: 'primary' }, icon('play'), ' Run selected roles');
      runBtn.addEventListener('click', () => this.requestRoles());
      el.append(fs, h('div', { class: 'actions' }, runBtn));
    } else {
      const sc = s.scenario;
      const sel = h('select', { id: 'variant', 'aria-label': 'Variant' });
      for (const v of sc.variants) {
        const o = h('option', { value: v.variant }, `${v.variant}: expect ${v.expect}`);
        o.selected = v.variant === sc.variant;
        sel.append(o);
      }
      sel.addEventListener('change', () => this.post({ type: 'showVariant', scenario: sc.id, variant: sel.value }));
      const runBtn = h('button', { type: 'button', id: 'run-scenario', class: 'primary' }, icon('play'), ' Run scenario');
      runBtn.addEventListener('click', () => this.requestScenario(`${sc.id}/${sel.value}`));
      el.append(h('div', { class: 'actions' }, h('label', { for: 'variant' }, 'Variant '), sel, runBtn));
    }
    // Any library scenario.
    if (this.st.library.length) {
      const lib = h('select', { id: 'library', 'aria-label': 'Library scenario' });
      for (const item of this.st.library) {
        const g = h('optgroup', { label: item.title });
        for (const v of item.variants) {
          const ref = `${item.id}/${v.variant}`;
          const o = h('option', { value: ref }, `${item.id} / ${v.variant} (expect ${v.expect})`);
          o.selected = ref === this.st.libraryChoice;
          g.append(o);
        }
        lib.append(g);
      }
      lib.addEventListener('change', () => {
        this.st.libraryChoice = lib.value;
        this.save();
      });
      const runLib = h('button', { type: 'button', id: 'run-library' }, icon('library'), ' Run library scenario');
      runLib.addEventListener('click', () => this.requestScenario(lib.value));
      el.append(h('div', { class: 'actions' }, h('label', { for: 'library' }, 'Or a library scenario '), lib, runLib));
    }
    const cancel = h('button', { type: 'button', id: 'cancel' }, icon('debug-stop'), ' Cancel');
    cancel.addEventListener('click', () => this.cancelRun());
    el.append(h('div', { class: 'progress-row' }, h('progress', { id: 'progress', 'aria-label': 'Exploration progress' }), this.statusEl, cancel));
    this.renderRunButtons();
    this.renderStatus();
  }

  private renderRunButtons(): void {
    const running = this.pendingRun >= 0;
    const roleCount = this.st.selectedRoles.length;
    const total = this.st.subject?.kind === 'lifecycle' ? this.st.subject.lifecycle.roles.length : 0;
    const min = Math.min(2, Math.max(1, total));
    const q = <T extends HTMLElement>(sel: string): T | null => this.runEl.querySelector<T>(sel);
    const rr = q<HTMLButtonElement>('#run-roles');
    if (rr) rr.disabled = running || roleCount < min || roleCount > 4;
    for (const id of ['#run-scenario', '#run-library']) {
      const b = q<HTMLButtonElement>(id);
      if (b) b.disabled = running;
    }
    const c = q<HTMLButtonElement>('#cancel');
    if (c) c.hidden = !running;
    const p = q<HTMLProgressElement>('#progress');
    if (p) p.hidden = !running;
  }

  private renderStatus(): void {
    const running = this.pendingRun >= 0;
    let t = this.runMessage;
    if (running) t = this.progressStates ? `Exploring: ${fmt(this.progressStates)} states so far…` : 'Exploring every interleaving…';
    else if (!t && this.st.subject?.kind === 'lifecycle') {
      const n = this.st.selectedRoles.length;
      if (n > 4) t = 'Pick at most 4 roles.';
    }
    if (this.runner.inThread && running) t += ' (workers unavailable: running on the page)';
    this.statusEl.textContent = t;
  }

  private renderResult(): void {
    const el = this.resultEl;
    clear(el);
    this.rows = [];
    this.timelineEl = this.stateEl = this.diagramEl = this.counterEl = null;
    this.playBtn = null;
    this.stepBtns = null;
    const r = this.st.result;
    if (!r) {
      el.hidden = true;
      return;
    }
    el.hidden = false;
    el.append(h('h2', { id: 'result-h' }, icon('graph'), ' Result: ', r.label));
    el.append(this.verdictBanner(r));
    if (!r.violations.length) return;
    if (r.violations.length > 1) {
      const list = h('div', { class: 'violations', role: 'group', 'aria-label': 'Violations found' });
      r.violations.forEach((v, i) => {
        const b = h('button', { type: 'button', class: 'violation-choice', 'aria-pressed': String(i === this.st.violation) }, icon('warning'), ` ${violationText(v.kind)} (${v.trace.length} steps)`);
        b.addEventListener('click', () => this.selectViolation(i, true));
        list.append(b);
      });
      el.append(list);
    }
    const v = this.currentViolation();
    if (!v) return;
    el.append(this.controls());
    const threads = [...new Set(v.trace.map((s) => s.thread))];
    const lanes = h('div', { class: 'lanes' });
    lanes.style.setProperty('--lanes', String(threads.length));
    const head = h('div', { class: 'lane-head', 'aria-hidden': 'true' }, h('span', { class: 'num' }, '#'), ...threads.map((t) => h('span', { class: 'lane-name' }, t)));
    const tl = h('div', { class: 'timeline', role: 'listbox', tabindex: '0', 'aria-label': `Trace of the ${violationText(v.kind)}: ${v.trace.length} steps; arrows move, Home and End jump, Space plays` });
    const frag = document.createDocumentFragment();
    // Rows are cloned from one template per lane count (much cheaper than building each element).
    const tpl = h('div', { role: 'option', class: 'row', 'aria-selected': 'false' }, h('span', { class: 'num' }));
    const cellTpl = h('span', { class: 'cell' }, h('span', { class: 'sr-only' }), h('code', { class: 'op' }));
    const noteTpl = h('span', { class: 'note' });
    v.trace.forEach((s, i) => {
      const lane = threads.indexOf(s.thread);
      const last = i === v.trace.length - 1;
      // The option's accessible name is its text: step number, thread, op, note, location.
      const row = tpl.cloneNode(true) as HTMLElement;
      row.id = `step-${i}`;
      if (last) row.classList.add('violating');
      row.firstChild!.textContent = String(i + 1);
      const cell = cellTpl.cloneNode(true) as HTMLElement;
      cell.firstChild!.textContent = `${s.thread}: `;
      cell.lastChild!.textContent = s.op;
      if (s.note) {
        const n = noteTpl.cloneNode(false) as HTMLElement;
        n.textContent = s.note;
        cell.append(n);
      }
      if (s.line > 0) cell.append(this.link(s.file, s.line, `${baseName(s.file)}:${s.line}`, s.column, false));
      if (last) cell.append(h('span', { class: 'vmsg' }, icon('error'), ` ${s.note === v.message ? violationText(v.kind) : v.message}`));
      // Placed in its thread's lane column (no elements for the other lanes).
      cell.style.gridColumn = String(lane + 2);
      row.append(cell);
      this.rows.push(row);
      frag.append(row);
    });
    tl.append(frag);
    lanes.append(head, tl);
    this.timelineEl = tl;
    this.stateEl = h('div', { class: 'state', 'aria-label': 'State after the selected step' });
    this.diagramEl = h('div', { class: 'diagram-box' });
    el.append(h('div', { class: 'split' }, lanes, h('aside', { class: 'side', 'aria-label': 'Object state' }, this.stateEl, h('h3', {}, 'Lifecycle'), this.diagramEl)));
    this.selectStep(this.st.step, false);
  }

  private verdictBanner(r: RunResult): HTMLElement {
    const exp = r.scenario ? (r.scenario.expect === 'safe' ? r.verdict === 'safe' : r.violations.some((v) => v.kind === r.scenario!.expect)) : null;
    const expText = r.scenario ? ` ${exp ? 'As the scenario expects' : 'Not what the scenario expects'} (expect ${r.scenario.expect}).` : '';
    const stats = `${fmt(r.states)} states, ${fmt(r.transitions)} transitions explored in ${r.ms} ms.`;
    if (r.verdict === 'safe') {
      return h('div', { class: 'verdict safe', role: 'status' }, icon('pass'), h('strong', {}, ' Safe. '), `Property held: ${safeProperty()}. ${stats}${expText}`);
    }
    if (r.verdict === 'violation') {
      const kinds = r.violations.map((v) => violationText(v.kind)).join(', ');
      return h('div', { class: 'verdict violation', role: 'status' }, icon('error'), h('strong', {}, ` Violation: ${kinds}. `), `${r.violations[this.st.violation]?.message ?? ''}. ${stats}${expText}`);
    }
    return h('div', { class: 'verdict incomplete', role: 'status' }, icon('warning'), h('strong', {}, ' Incomplete. '), `Stopped (${r.stoppedBecause ?? 'bounded'}) after ${stats}`);
  }

  private controls(): HTMLElement {
    const mk = (id: string, label: string, key: string, ic: string, fn: () => void): HTMLButtonElement => {
      const b = h('button', { type: 'button', id, class: 'step-btn', title: `${label} (${key})`, 'aria-label': label, 'aria-keyshortcuts': key }, icon(ic), h('span', { class: 'btn-label' }, label));
      b.addEventListener('click', fn);
      return b;
    };
    const first = mk('step-first', 'First', 'Home', 'debug-restart', () => this.selectStep(0, true));
    const prev = mk('step-prev', 'Previous', 'ArrowUp', 'arrow-up', () => this.selectStep(this.st.step - 1, true));
    this.playBtn = mk('step-play', 'Play', 'Space', 'debug-start', () => this.togglePlay());
    const next = mk('step-next', 'Next', 'ArrowDown', 'arrow-down', () => this.selectStep(this.st.step + 1, true));
    const last = mk('step-last', 'Last', 'End', 'debug-step-over', () => this.selectStep(this.currentTrace().length - 1, true));
    this.stepBtns = { first, prev, next, last };
    this.counterEl = h('span', { class: 'counter', role: 'status', 'aria-live': 'polite' });
    return h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Step controls' }, first, prev, this.playBtn, next, last, this.counterEl);
  }

  private renderPlay(): void {
    if (!this.playBtn) return;
    const playing = !!this.playTimer;
    this.playBtn.setAttribute('aria-pressed', String(playing));
    this.playBtn.setAttribute('aria-label', playing ? 'Pause' : 'Play');
    this.playBtn.title = `${playing ? 'Pause' : 'Play'} (Space)`;
    const lab = this.playBtn.querySelector('.btn-label');
    if (lab) lab.textContent = playing ? 'Pause' : 'Play';
    const ic = this.playBtn.querySelector('.codicon');
    if (ic) ic.className = `codicon codicon-${playing ? 'debug-pause' : 'debug-start'}`;
  }

  /** The parts that depend on the selected step: counter, buttons, state panel, diagram. */
  private renderStep(): void {
    const trace = this.currentTrace();
    const i = this.st.step;
    const s = trace[i];
    if (this.counterEl) this.counterEl.textContent = `Step ${i + 1} of ${trace.length}`;
    if (this.stepBtns) {
      this.stepBtns.first.disabled = this.stepBtns.prev.disabled = i <= 0;
      this.stepBtns.next.disabled = this.stepBtns.last.disabled = i >= trace.length - 1;
    }
    this.renderPlay();
    if (!s || !this.stateEl || !this.diagramEl) return;
    const st = this.stateEl;
    clear(st);
    st.append(h('h3', {}, `After step ${i + 1}`), h('p', { class: 'step-desc' }, h('strong', {}, s.thread), ': ', h('code', {}, s.op), s.note ? ` (${s.note})` : ''));
    const tbl = h('table', { class: 'objects' }, h('caption', { class: 'sr-only' }, 'Objects'), h('thead', {}, h('tr', {}, ...['Object', 'Refcount', 'State', 'Published', 'Freed', 'RCU callback'].map((c) => h('th', { scope: 'col' }, c)))));
    const body = h('tbody');
    for (const o of s.state.objects) {
      body.append(h('tr', { class: `obj-${o.state}` },
        h('th', { scope: 'row' }, h('code', {}, o.name)),
        h('td', { class: 'refcount' }, String(o.refcount)),
        h('td', { class: 'objstate' }, o.state),
        h('td', {}, o.in.length ? `yes (${o.in.join(', ')})` : 'no'),
        h('td', {}, o.state === 'freed' ? 'yes' : 'no'),
        h('td', {}, o.rcuPending ? 'pending' : '-')));
    }
    tbl.append(body);
    st.append(tbl);
    const locks = Object.entries(s.state.locks);
    st.append(h('h4', {}, 'Locks held'));
    if (!locks.length) st.append(h('p', { class: 'muted locks' }, 'none'));
    else st.append(h('ul', { class: 'locks' }, ...locks.map(([l, by]) => h('li', {}, h('code', {}, l), ' held by ', by.join(', ')))));
    st.append(h('h4', {}, 'RCU readers'), h('p', { class: s.state.rcuReaders.length ? 'rcu' : 'muted rcu' }, s.state.rcuReaders.join(', ') || 'none'));
    st.append(h('h4', {}, 'Pending callbacks'));
    if (!s.state.pendingCallbacks.length) st.append(h('p', { class: 'muted callbacks' }, 'none'));
    else st.append(h('ul', { class: 'callbacks' }, ...s.state.pendingCallbacks.map((c) => h('li', {}, c))));
    clear(this.diagramEl);
    this.diagramEl.append(lifecycleDiagram({ trace, step: i }));
  }
}

function defaultRoles(s: Subject): string[] {
  if (s.kind !== 'lifecycle') return [];
  const roles = s.lifecycle.roles;
  const put = roles.find((r) => r.kind === 'put');
  const lookup = roles.find((r) => r.kind === 'lookup' && /-> use -> put/.test(r.summary)) ?? roles.find((r) => r.kind === 'lookup');
  const picked = [lookup, put].filter((r): r is NonNullable<typeof r> => !!r).map((r) => r.name);
  if (picked.length >= 2) return picked;
  return roles.slice(0, 2).map((r) => r.name);
}

const rootEl = document.getElementById('app');
if (rootEl) new App(acquireVsCodeApi(), rootEl);
