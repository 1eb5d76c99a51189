/**
 * Feature: hovers. On the name of a lock, refcount, RCU or lookup-structure
 * call (or a learned wrapper): the held set at that point, what the call does,
 * the callee's learned summary and the rule documentation. Inside a Refscope
 * diagnostic: the rule's docs and a "Play race scenario" link that runs
 * `refscope.openScenario` (the simulation webview).
 */
import * as vscode from 'vscode';
import { callAt, functionAtLine, heldText, wrapperHint, type CallHint } from '../core/hints';
import { ruleMeta } from '../core/rules/registry';
import type { RefscopeContext } from './context';
import { DIAGNOSTIC_SOURCE, fileKey } from './convert';
import { C_SELECTOR, wrapperFor } from './inlayHints';
import { readSettings } from './settings';
import { isKernelC } from './analyzer';

export const OPEN_SCENARIO = 'refscope.openScenario';
export const SIMULATE_LIFECYCLE = 'refscope.simulateLifecycle';

/** Rules whose docs explain a call category. */
const DOCS_FOR: Record<string, string[]> = {
  lock: ['lock-leak', 'double-lock', 'unlock-unheld'],
  rcu: ['free-without-grace-period', 'sleep-in-atomic'],
  get: ['unsafe-lookup-get', 'ref-leak'],
  'cond-get': ['unchecked-get-unless-zero', 'get-unless-zero-outside-lookup'],
  put: ['use-after-put', 'put-under-release-lock'],
  'put-release': ['use-after-put', 'put-under-release-lock'],
  transfer: ['unsafe-lookup-get', 'free-without-grace-period'],
  container: ['unsafe-lookup-get', 'free-without-grace-period'],
  free: ['free-without-grace-period', 'use-after-put'],
};

export function commandLink(command: string, arg: unknown): string {
  return `command:${command}?${encodeURIComponent(JSON.stringify([arg]))}`;
}

function docLinks(ids: readonly string[]): string {
  return ids.map((id) => {
    const m = ruleMeta(id);
    return m ? `[${id}](${m.helpUri})` : '';
  }).filter(Boolean).join(' · ');
}

export function activate(ctx: RefscopeContext): void {
  ctx.register(vscode.languages.registerHoverProvider(C_SELECTOR, {
    async provideHover(doc, pos): Promise<vscode.Hover | undefined> {
      if (!isKernelC(doc) || !readSettings(doc.uri).hints.hovers || !readSettings(doc.uri).hints.enable) return undefined;
      const parts: vscode.MarkdownString[] = [];
      const diag = diagnosticHover(ctx, doc, pos);
      if (diag) parts.push(diag);
      const ev = await ctx.analyzer.current(doc);
      if (ev) {
        const fn = functionAtLine(ev.hints, pos.line + 1);
        const offset = doc.offsetAt(pos);
        const call = fn ? callAt(fn, offset) : undefined;
        if (call && call.nameAt.start.offset <= offset && offset <= call.nameAt.end.offset) {
          const md = callHover(ctx, doc, call);
          if (md) parts.push(md);
        }
      }
      return parts.length ? new vscode.Hover(parts) : undefined;
    },
  }));
}

function trusted(text: string): vscode.MarkdownString {
  const md = new vscode.MarkdownString(text);
  md.isTrusted = { enabledCommands: [OPEN_SCENARIO, SIMULATE_LIFECYCLE] };
  return md;
}

function diagnosticHover(ctx: RefscopeContext, doc: vscode.TextDocument, pos: vscode.Position): vscode.MarkdownString | undefined {
  const lines: string[] = [];
  for (const d of ctx.diagnostics.get(doc.uri) ?? []) {
    if (d.source !== DIAGNOSTIC_SOURCE || !d.range.contains(pos)) continue;
    const rule = typeof d.code === 'object' && d.code ? String(d.code.value) : String(d.code ?? '');
    const meta = ruleMeta(rule);
    const links = [meta ? `[rule docs](${meta.helpUri})` : ''];
    if (meta?.scenario) links.push(`[▶ Play race scenario \`${meta.scenario}\`](${commandLink(OPEN_SCENARIO, { scenario: meta.scenario })})`);
    lines.push(`**Refscope** \`${rule}\` — ${meta?.shortDescription ?? ''}  \n${links.filter(Boolean).join(' · ')}`);
  }
  return lines.length ? trusted(lines.join('\n\n---\n\n')) : undefined;
}

function callHover(ctx: RefscopeContext, doc: vscode.TextDocument, call: CallHint): vscode.MarkdownString | undefined {
  const summary = wrapperFor(ctx.index.current, call.callee, fileKey(doc.uri));
  const w = summary ? wrapperHint(summary, call.args) : undefined;
  if (call.category === 'call' && !w) return undefined;
  const lines: string[] = [];
  lines.push(`**\`${call.callee}\`**${call.effect ? ` — ${call.effect}` : ''}`);
  lines.push(`**Held here:** ${call.held.length ? call.held.map((h) => `\`${h.label}\`${h.uncertain ? ' (on some paths)' : ''}${h.guard ? ' (guard)' : ''}`).join(', ') : '_no locks held_'}`);
  const ev = ctx.analyzer.resultFor(doc);
  const fn = ev ? functionAtLine(ev.hints, call.at.start.line) : undefined;
  const ref = fn?.refOps.find((r) => r.at.start.offset === call.at.start.offset);
  if (ref) lines.push(`**Refcount:** \`${ref.label}\`${ref.objectType ? ` on \`${ref.object}\` (\`${ref.objectType}\`)` : ''}`);
  if (w && summary) {
    lines.push(`**Learned summary** (\`${summary.file.split('/').pop() ?? summary.file}:${summary.line}\`): ${w.description}`);
  }
  const kind = ref?.kind ?? (call.category === 'lock' || call.category === 'rcu' || call.category === 'container' || call.category === 'free' ? call.category : undefined)
    ?? (w ? (summary?.params.some((p) => p.effect === 'put') ? 'put' : 'get') : undefined);
  const docs = kind ? DOCS_FOR[kind] : undefined;
  if (docs) lines.push(`**Rules:** ${docLinks(docs)}`);
  const type = ref?.objectType ?? call.argTypes.find((t): t is string => !!t && /^(struct|union) /.test(t));
  if (type && (call.category === 'refcount' || w)) {
    lines.push(`[▶ Simulate lifecycle of \`${type}\`](${commandLink(SIMULATE_LIFECYCLE, { typeName: type, uri: doc.uri.toString(), line: call.at.start.line - 1 })})`);
  }
  return trusted(`**Refscope** · ${heldText(call.held) ? `held: ${heldText(call.held)}` : 'no locks held'}\n\n${lines.join('  \n')}`);
}
