/**
 * The ONE place where core plain data (Span, Finding, TraceStep) becomes VS Code
 * types. Core lines and columns are 1-based (UTF-16 columns); VS Code's are 0-based.
 */
import * as vscode from 'vscode';
import { ruleMeta } from '../core/rules/registry';
import type { Finding, Severity, Span, TraceStep } from '../core/types';

export const DIAGNOSTIC_SOURCE = 'refscope';

export function toPosition(line: number, column: number): vscode.Position {
  return new vscode.Position(Math.max(0, line - 1), Math.max(0, column - 1));
}

export function toRange(span: Span): vscode.Range {
  return new vscode.Range(toPosition(span.start.line, span.start.column), toPosition(span.end.line, span.end.column));
}

export function toSeverity(s: Severity): vscode.DiagnosticSeverity {
  switch (s) {
    case 'error':
      return vscode.DiagnosticSeverity.Error;
    case 'warning':
      return vscode.DiagnosticSeverity.Warning;
    case 'info':
      return vscode.DiagnosticSeverity.Information;
  }
}

/**
 * The file key handed to the core for a document: its URI string, so trace steps
 * in the same file map back to the very same URI (virtual file systems included).
 */
export function fileKey(uri: vscode.Uri): string {
  return uri.toString();
}

export function toUri(file: string, analysed: vscode.Uri): vscode.Uri {
  if (file === fileKey(analysed)) return analysed;
  if (/^[a-zA-Z][\w+.-]*:/.test(file)) return vscode.Uri.parse(file);
  return vscode.Uri.joinPath(analysed, '..', file);
}

export function toRelatedInformation(step: TraceStep, analysed: vscode.Uri): vscode.DiagnosticRelatedInformation {
  const pos = toPosition(step.line, step.column);
  return new vscode.DiagnosticRelatedInformation(new vscode.Location(toUri(step.file, analysed), pos), step.message);
}

export function toDiagnostic(f: Finding, analysed: vscode.Uri): vscode.Diagnostic {
  const d = new vscode.Diagnostic(toRange(f.span), f.message, toSeverity(f.severity));
  d.source = DIAGNOSTIC_SOURCE;
  const help = ruleMeta(f.rule)?.helpUri;
  d.code = help ? { value: f.rule, target: vscode.Uri.parse(help) } : f.rule;
  d.relatedInformation = f.trace.map((s) => toRelatedInformation(s, analysed));
  return d;
}
