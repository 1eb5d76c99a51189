/**
 * Entry point of the analysis for one file: hosts (CLI workers, the editor) call
 * this with text they read themselves. Parses (kernel-aware), summarises the
 * file's own functions bottom-up, runs the lock dataflow per function and the
 * rules. Never throws on bad input: a function the analysis fails on is counted
 * in `stats.functionsNotAnalysed` and yields no findings.
 */
import { analyzeFunctions } from './analysis/locks';
import { builtinCatalog, type Catalog } from './catalog/index';
import type { FunctionSummary } from './index/summaries';
import type { CParser } from './parse/parser';
import { parseKernelC } from './parse/source';
import { runRules } from './rules/index';
import type { FileResult, Finding } from './types';
import { utf8ByteLength } from './util/text';

export interface AnalyzeOptions {
  /** Resolved catalog (built-ins merged with the user's .refscope.json). Default: builtinCatalog(). */
  catalog?: Catalog;
  /** Summaries of functions defined elsewhere in the workspace (headers, other files), by name. */
  knowledge?: ReadonlyMap<string, FunctionSummary>;
}

let defaultCatalog: Catalog | undefined;

export function analyzeFile(parser: CParser, text: string, file: string, options: AnalyzeOptions = {}): FileResult {
  const parsed = parseKernelC(parser, text);
  try {
    const damaged = parsed.functions.filter((f) => f.damaged);
    const findings: Finding[] = [];
    let notAnalysed = 0;
    try {
      const catalog = options.catalog ?? (defaultCatalog ??= builtinCatalog());
      const fa = analyzeFunctions(parsed, file, catalog, options.knowledge, true);
      notAnalysed = fa.failures;
      for (const f of fa.functions) {
        try {
          findings.push(...runRules(f, file));
        } catch {
          notAnalysed++;
        }
      }
    } catch {
      notAnalysed = parsed.functions.length;
    }
    findings.sort((a, b) => a.span.start.offset - b.span.start.offset || a.rule.localeCompare(b.rule));
    return {
      file,
      findings,
      stats: {
        functions: parsed.functions.length,
        functionsWithParseDamage: damaged.length,
        bytes: utf8ByteLength(text),
        functionsNotAnalysed: notAnalysed,
      },
      damagedFunctions: damaged.map((f) => f.name),
    };
  } finally {
    parsed.dispose();
  }
}
