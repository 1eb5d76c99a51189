/**
 * Entry point of the analysis for one file: hosts (CLI workers, the editor) call
 * this with text they read themselves. Interim: parses and counts; the rules are
 * wired in by the lock-analysis work.
 */
import type { CParser } from './parse/parser';
import { parseKernelC } from './parse/source';
import type { FileResult } from './types';
import { utf8ByteLength } from './util/text';

export interface AnalyzeOptions {
  /** Resolved catalog (built-ins merged with the user's .refscope.json). */
  catalog?: unknown;
  /** Knowledge about functions defined elsewhere in the workspace (summaries). */
  knowledge?: unknown;
}

export function analyzeFile(parser: CParser, text: string, file: string, _options: AnalyzeOptions = {}): FileResult {
  const parsed = parseKernelC(parser, text);
  try {
    const damaged = parsed.functions.filter((f) => f.damaged);
    return {
      file,
      findings: [],
      stats: { functions: parsed.functions.length, functionsWithParseDamage: damaged.length, bytes: utf8ByteLength(text) },
      damagedFunctions: damaged.map((f) => f.name),
    };
  } finally {
    parsed.dispose();
  }
}
