/**
 * Feature: code actions where the fix is mechanical.
 * - lock-leak at an early `return`: jump to the function's existing unlock
 *   label (`ret = E; goto out_unlock;`), or release the lock before returning;
 * - unchecked-get-unless-zero: check the result (`if (!kref_get_unless_zero(x)) return …;`);
 * - a plain `kref_get`/`refcount_inc` (unsafe-lookup-get, or at the cursor):
 *   use the get-unless-zero variant with a failure branch;
 * - `kref_put(x, rel); mutex_unlock(m);` with `m` held (put-under-release-lock,
 *   or at the cursor): `mutex_unlock(m); kref_put_mutex(x, rel, m);`;
 * - every finding with a race scenario: "Play race scenario" (refscope.openScenario).
 */
import * as vscode from 'vscode';
import { lockKey } from '../core/analysis/lockid';
import {
  callAt, failureReturn, functionAtLine, GET_UNLESS_ZERO_OF, releaseFor, type CallHint, type FunctionHints, type HeldEntry,
} from '../core/hints';
import { ruleMeta } from '../core/rules/registry';
import { isKernelC } from './analyzer';
import type { RefscopeContext } from './context';
import { DIAGNOSTIC_SOURCE } from './convert';
import { OPEN_SCENARIO } from './hover';
import { C_SELECTOR } from './inlayHints';

export function activate(ctx: RefscopeContext): void {
  ctx.register(vscode.languages.registerCodeActionsProvider(C_SELECTOR, {
    async provideCodeActions(doc, range, context): Promise<vscode.CodeAction[]> {
      if (!isKernelC(doc)) return [];
      const ev = await ctx.analyzer.current(doc);
      if (!ev) return [];
      const out: vscode.CodeAction[] = [];
      const handled = new Set<number>();
      for (const d of context.diagnostics) {
        if (d.source !== DIAGNOSTIC_SOURCE) continue;
        const rule = typeof d.code === 'object' && d.code ? String(d.code.value) : String(d.code ?? '');
        const fn = functionAtLine(ev.hints, d.range.start.line + 1);
        if (fn) {
          const call = callAt(fn, doc.offsetAt(d.range.start) + 1);
          if (rule === 'lock-leak') out.push(...lockLeakFixes(doc, fn, d));
          if (rule === 'unchecked-get-unless-zero' && call) {
            const a = checkResultFix(doc, fn, call, d);
            if (a) out.push(a);
          }
          if (rule === 'unsafe-lookup-get' && call && GET_UNLESS_ZERO_OF[call.callee]) {
            const a = getUnlessZeroFix(doc, fn, call, d);
            if (a) {
              out.push(a);
              handled.add(call.at.start.offset);
            }
          }
          if (rule === 'put-under-release-lock' && call) {
            const a = putMutexFix(doc, call, d);
            if (a) {
              out.push(a);
              handled.add(call.at.start.offset);
            }
          }
        }
        const scenario = ruleMeta(rule)?.scenario;
        if (scenario) {
          const a = new vscode.CodeAction(`Play race scenario ‘${scenario}’`, vscode.CodeActionKind.QuickFix);
          a.command = { command: OPEN_SCENARIO, title: 'Play race scenario', arguments: [{ scenario }] };
          a.diagnostics = [d];
          out.push(a);
        }
      }
      // Refactors at the cursor, without a finding.
      const fn = functionAtLine(ev.hints, range.start.line + 1);
      const call = fn ? callAt(fn, doc.offsetAt(range.start)) : undefined;
      if (fn && call && !handled.has(call.at.start.offset)) {
        if (GET_UNLESS_ZERO_OF[call.callee]) {
          const a = getUnlessZeroFix(doc, fn, call, undefined);
          if (a) out.push(a);
        }
        if (call.callee === 'kref_put') {
          const a = putMutexFix(doc, call, undefined);
          if (a) out.push(a);
        }
      }
      return out;
    },
  }, { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix, vscode.CodeActionKind.RefactorRewrite] }));
}

function indentOf(doc: vscode.TextDocument, line: number): string {
  return /^\s*/.exec(doc.lineAt(line).text)![0];
}

/** Range of the statement `call ;` when the call is a whole expression statement on its line(s). */
function statementRange(doc: vscode.TextDocument, call: CallHint): vscode.Range | undefined {
  if (!call.ignored) return undefined;
  const end = doc.positionAt(call.at.end.offset);
  const rest = doc.lineAt(end.line).text.slice(end.character);
  const m = /^\s*;/.exec(rest);
  if (!m) return undefined;
  return new vscode.Range(doc.positionAt(call.at.start.offset), end.translate(0, m[0].length));
}

/** `if (...)` / `else` line right above a brace-less statement at `line`, if any. */
function bracelessParent(doc: vscode.TextDocument, line: number): number | undefined {
  for (let l = line - 1; l >= 0; l--) {
    const t = doc.lineAt(l).text.trim();
    if (!t) continue;
    return /^(\}\s*)?(else\b|if\s*\(|else\s+if\s*\()/.test(t) && /(\)|else)$/.test(t) ? l : undefined;
  }
  return undefined;
}

/** Replace the statement on `line` by `lines` (a block when it was the brace-less body of an if/else). */
function replaceStatement(edit: vscode.WorkspaceEdit, doc: vscode.TextDocument, range: vscode.Range, lines: string[]): void {
  const ind = indentOf(doc, range.start.line);
  const parent = bracelessParent(doc, range.start.line);
  if (parent !== undefined) {
    const pind = indentOf(doc, parent);
    edit.insert(doc.uri, doc.lineAt(parent).range.end, ' {');
    edit.replace(doc.uri, range, lines.join(`\n${ind}`) + `\n${pind}}`);
  } else {
    edit.replace(doc.uri, range, lines.join(`\n${ind}`));
  }
}

function lockLeakFixes(doc: vscode.TextDocument, fn: FunctionHints, d: vscode.Diagnostic): vscode.CodeAction[] {
  const out: vscode.CodeAction[] = [];
  const line = d.range.start.line;
  const exit = fn.exits.find((e) => e.kind === 'return' && e.at.start.line - 1 === line);
  if (!exit) return out;
  const stmt = new vscode.Range(doc.positionAt(exit.at.start.offset), doc.positionAt(exit.at.end.offset));
  const text = doc.getText(stmt);
  const m = /^return\s*(.*?)\s*;$/s.exec(text);
  if (!m) return out;
  const value = m[1] ?? '';
  const held = exit.held.filter((h) => !h.guard);
  // 1. goto the existing unlock label that releases every held lock
  const label = fn.unlockLabels.find((l) => held.every((h) => l.releases.includes(h.key)) && l.line - 1 > line);
  if (label && label.returns !== null) {
    let lines: string[] | undefined;
    if (value === '' && label.returns === '') lines = [`goto ${label.label};`];
    else if (value !== '' && label.returns !== '') lines = value === label.returns ? [`goto ${label.label};`] : [`${label.returns} = ${value};`, `goto ${label.label};`];
    if (lines) {
      const a = new vscode.CodeAction(`Jump to the unlock label ‘${label.label}’ instead of returning`, vscode.CodeActionKind.QuickFix);
      a.edit = new vscode.WorkspaceEdit();
      replaceStatement(a.edit, doc, stmt, lines);
      a.diagnostics = [d];
      a.isPreferred = true;
      out.push(a);
    }
  }
  // 2. release before returning
  const releases = releaseStatements(fn, held);
  if (releases?.length) {
    const a = new vscode.CodeAction(`Release ${held.map((h) => `‘${h.label}’`).join(', ')} before returning`, vscode.CodeActionKind.QuickFix);
    a.edit = new vscode.WorkspaceEdit();
    replaceStatement(a.edit, doc, stmt, [...releases, text]);
    a.diagnostics = [d];
    if (!out.length) a.isPreferred = true;
    out.push(a);
  }
  return out;
}

/** Statements releasing `held` (innermost first), from the function's own acquire calls; undefined when one has no known release. */
function releaseStatements(fn: FunctionHints, held: readonly HeldEntry[]): string[] | undefined {
  const out: string[] = [];
  for (const h of held) {
    if (h.guard) continue;
    const acquire = fn.calls.find((c) => (c.category === 'lock' || c.category === 'rcu') && /^acquires/.test(c.effect ?? '') && !/when it returns/.test(c.effect ?? '')
      && (h.key === 'rcu' ? c.category === 'rcu' : c.args[0] !== undefined && lockKey(c.args[0]) === h.key));
    const rel = acquire ? releaseFor(acquire.callee) : undefined;
    if (!acquire || !rel) return undefined;
    out.push(`${rel}(${acquire.args.join(', ')});`);
  }
  return out.reverse();
}

/** `if (!call) <failure>` where the failure releases the locks held at the call, then returns. */
function checkedCall(doc: vscode.TextDocument, fn: FunctionHints, call: CallHint, range: vscode.Range, callText: string): string | undefined {
  const ind = indentOf(doc, range.start.line);
  const releases = releaseStatements(fn, call.held);
  if (!releases) return undefined;
  const fail = [...releases, failureReturn(fn.returns)];
  return fail.length === 1
    ? `if (!${callText})\n${ind}\t${fail[0]}`
    : `if (!${callText}) {\n${fail.map((l) => `${ind}\t${l}`).join('\n')}\n${ind}}`;
}

function checkResultFix(doc: vscode.TextDocument, fn: FunctionHints, call: CallHint, d: vscode.Diagnostic): vscode.CodeAction | undefined {
  const range = statementRange(doc, call);
  if (!range) return undefined;
  const text = checkedCall(doc, fn, call, range, doc.getText(new vscode.Range(range.start, doc.positionAt(call.at.end.offset))));
  if (!text) return undefined;
  const a = new vscode.CodeAction(`Check the result of ${call.callee}()`, vscode.CodeActionKind.QuickFix);
  a.edit = new vscode.WorkspaceEdit();
  a.edit.replace(doc.uri, range, text);
  a.diagnostics = [d];
  a.isPreferred = true;
  return a;
}

function getUnlessZeroFix(doc: vscode.TextDocument, fn: FunctionHints, call: CallHint, d: vscode.Diagnostic | undefined): vscode.CodeAction | undefined {
  const range = statementRange(doc, call);
  const variant = GET_UNLESS_ZERO_OF[call.callee];
  if (!range || !variant) return undefined;
  const text = checkedCall(doc, fn, call, range, `${variant}(${call.args.join(', ')})`);
  if (!text) return undefined;
  const a = new vscode.CodeAction(`Use ${variant}() with a failure branch`, d ? vscode.CodeActionKind.QuickFix : vscode.CodeActionKind.RefactorRewrite);
  a.edit = new vscode.WorkspaceEdit();
  a.edit.replace(doc.uri, range, text);
  if (d) a.diagnostics = [d];
  return a;
}

/** `kref_put(x, rel); mutex_unlock(m);` with `m` held -> `mutex_unlock(m); kref_put_mutex(x, rel, m);`. */
function putMutexFix(doc: vscode.TextDocument, call: CallHint, d: vscode.Diagnostic | undefined): vscode.CodeAction | undefined {
  if (call.callee !== 'kref_put' || call.args.length !== 2) return undefined;
  const range = statementRange(doc, call);
  if (!range) return undefined;
  // the next statement must be the unlock of a held mutex
  const next = range.end.line + 1;
  if (next >= doc.lineCount) return undefined;
  const m = /^\s*mutex_unlock\s*\((.*)\)\s*;\s*$/.exec(doc.lineAt(next).text);
  if (!m) return undefined;
  const lock = m[1]!.trim();
  if (!call.held.some((h) => h.key === lockKey(lock))) return undefined;
  const ind = indentOf(doc, range.start.line);
  const a = new vscode.CodeAction('Use kref_put_mutex() after unlocking (the release callback must unlock)', d ? vscode.CodeActionKind.QuickFix : vscode.CodeActionKind.RefactorRewrite);
  a.edit = new vscode.WorkspaceEdit();
  a.edit.replace(doc.uri, new vscode.Range(range.start, doc.lineAt(next).range.end),
    `mutex_unlock(${lock});\n${ind}kref_put_mutex(${call.args[0]}, ${call.args[1]}, ${lock});`);
  if (d) a.diagnostics = [d];
  return a;
}
