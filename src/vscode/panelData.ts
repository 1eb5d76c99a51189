/**
 * Plain-data views sent to the lifecycle webview, built from the core's
 * lifecycle model and the scenario library. Pure (no `vscode`), so the browser
 * tests and the benchmark build exactly what the panel sends.
 */
import type { WorkspaceIndex } from '../core/index/index';
import type { CParser } from '../core/parse/parser';
import { findBuiltin, library, parseBuiltin, type LibraryVariant } from '../core/scenarios/library';
import type { LifecycleModel } from '../core/sim/lifecycle';
import type { LibraryItem, LifecycleView, ScenarioView, ToWebview } from '../shared/protocol';

export function lifecycleView(lm: LifecycleModel, index?: WorkspaceIndex): LifecycleView {
  const def = index?.structs.get(lm.type);
  return {
    type: lm.type,
    refcountField: lm.refcountField,
    counterKind: lm.counterKind,
    ...(def && def.file ? { definedAt: { file: def.file, line: def.line } } : {}),
    gets: lm.gets,
    puts: lm.puts,
    releaseCallbacks: lm.releaseCallbacks.map((r) => ({ function: r.function, file: r.file, line: r.line, locks: r.locks, frees: r.frees, unpublishes: r.unpublishes })),
    lookups: lm.lookups.map((l) => ({ function: l.function, file: l.file, line: l.line, structure: l.structure, protectedBy: l.protectedBy, get: l.get, ...(l.via ? { via: l.via } : {}) })),
    structures: lm.structures.map((s) => ({
      id: s.id, kind: s.kind, rcu: s.rcu, holdsRef: s.holdsRef, readLocks: s.readLocks, writeLocks: s.writeLocks,
      publish: s.publish.map((p) => ({ function: p.fn, file: p.file, line: p.line, via: p.via })),
      unpublish: s.unpublish.map((p) => ({ function: p.fn, file: p.file, line: p.line, via: p.via })),
    })),
    roles: lm.roles.map((r) => ({ name: r.name, kind: r.kind, function: r.function, file: r.file, line: r.line, ...(r.structure ? { structure: r.structure } : {}), summary: r.summary })),
  };
}

export function libraryItems(): LibraryItem[] {
  return library().map((e) => ({ id: e.id, title: e.title, variants: e.variants.map((v) => ({ variant: v.variant, title: v.meta.title, expect: v.meta.expect })) }));
}

/** The variant to play when none is named: the first one that is not expected safe (the race), else the first. */
export function defaultVariant(id: string): LibraryVariant | undefined {
  const vs = findBuiltin(id);
  return vs.find((v) => v.meta.expect !== 'safe') ?? vs[0];
}

export function findVariant(id: string, variant: string | undefined): LibraryVariant | undefined {
  if (!variant) return defaultVariant(id);
  return findBuiltin(`${id}/${variant}`)[0];
}

export function scenarioView(v: LibraryVariant): ScenarioView {
  const id = v.ref.split('/')[0]!;
  const threads = [...v.text.matchAll(/^\s*(?:static\s+)?void\s+(thread\w*)\s*\(/gm)].map((m) => m[1]!);
  return {
    id, variant: v.variant, file: v.file, title: v.meta.title, expect: v.meta.expect, rules: v.meta.rules, doc: v.meta.doc,
    what: v.meta.what, why: v.meta.why, fix: v.meta.fix, threads,
    variants: findBuiltin(id).map((x) => ({ variant: x.variant, title: x.meta.title, expect: x.meta.expect })),
  };
}

/** The `explore` message for a library scenario variant (compiled with the real parser). */
export function scenarioExplore(parser: CParser, v: LibraryVariant, runId: number, maxStates = 500_000): Extract<ToWebview, { type: 'explore' }> {
  const s = parseBuiltin(parser, v);
  const id = v.ref.split('/')[0]!;
  return {
    type: 'explore', runId, label: `scenario ${v.ref}`, roles: s.model.threads.map((t) => s.model.programs[t]!.name),
    scenario: { id, variant: v.variant, expect: v.meta.expect }, model: s.model, maxStates,
  };
}
