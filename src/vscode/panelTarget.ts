/**
 * "The object at the cursor": the struct type of the identifier under the cursor,
 * when it is a variable or parameter of the enclosing function, a global, a
 * field access (`a->b.c`, resolved field by field through the index), or the
 * struct name itself (`struct foo`). Pure (no `vscode`): text, a position and
 * the workspace index in, a type name (`struct foo`) out.
 */
import { fieldOf, normType, type WorkspaceIndex } from '../core/index/index';

export interface CursorTarget {
  /** `struct foo` / `union foo`. */
  type: string;
  /** How it was found, for messages. */
  via: 'struct-name' | 'variable' | 'parameter' | 'global' | 'field' | 'type-name';
  word: string;
}

const ID = /[A-Za-z_]\w*/y;

function wordAt(line: string, ch: number): { word: string; start: number } | null {
  let s = Math.min(ch, line.length);
  while (s > 0 && /\w/.test(line[s - 1]!)) s--;
  ID.lastIndex = s;
  const m = ID.exec(line);
  if (!m || s + m[0].length < ch) return null;
  return { word: m[0], start: s };
}

function isAggregate(t: string): boolean {
  return /^(struct|union) \w/.test(t);
}

/** Identifiers of an access chain ending at `end` (exclusive), e.g. `a->b.c` -> ['a', 'b', 'c']. */
function chainBefore(line: string, end: number): string[] | null {
  const out: string[] = [];
  let i = end;
  for (;;) {
    let j = i;
    while (j > 0 && /\s/.test(line[j - 1]!)) j--;
    let op = '';
    if (line.slice(j - 2, j) === '->') op = '->';
    else if (line[j - 1] === '.') op = '.';
    if (!op) break;
    j -= op.length;
    while (j > 0 && /\s/.test(line[j - 1]!)) j--;
    // `a[i]->b`, `(x)->y`: the bracketed base is not resolved.
    if (line[j - 1] === ']' || line[j - 1] === ')') return null;
    let k = j;
    while (k > 0 && /\w/.test(line[k - 1]!)) k--;
    if (k === j) return null;
    out.unshift(line.slice(k, j));
    i = k;
  }
  return out;
}

/** The struct type named by the identifier at (`line`, `character`) (0-based) of `text` in `file` (the index's file key). */
export function structTypeAt(index: WorkspaceIndex, file: string, text: string, line: number, character: number): CursorTarget | null {
  const lines = text.split('\n');
  const l = lines[line];
  if (l === undefined) return null;
  const w = wordAt(l, character);
  if (!w) return null;
  const before = l.slice(0, w.start);
  // `struct foo` (declarations, casts, sizeof, container_of).
  const kw = /\b(struct|union)\s+$/.exec(before);
  if (kw) return { type: `${kw[1]} ${w.word}`, via: 'struct-name', word: w.word };

  // Variables and parameters of the enclosing function; globals.
  const fn = [...index.functions.values()].flat().find((d) => d.file === file && d.fact.line <= line + 1 && line + 1 <= d.fact.endLine);
  const typeOfName = (name: string): { t: string; via: CursorTarget['via'] } | null => {
    const p = fn?.fact.params.find((x) => x.n === name);
    if (p) return { t: normType(index, p.t), via: 'parameter' };
    const v = fn?.fact.vars[name];
    if (v) return { t: normType(index, v.t), via: 'variable' };
    const g = index.globals.get(name);
    if (g) return { t: normType(index, g.type.t), via: 'global' };
    return null;
  };

  const chain = chainBefore(l, w.start);
  if (chain && chain.length) {
    const base = typeOfName(chain[0]!);
    if (base) {
      let t = base.t;
      for (const f of [...chain.slice(1), w.word]) {
        const fd = fieldOf(index, t, f);
        if (!fd) return null;
        t = normType(index, fd.t);
      }
      return isAggregate(t) ? { type: t, via: 'field', word: w.word } : null;
    }
    return null;
  }
  const direct = typeOfName(w.word);
  if (direct && isAggregate(direct.t)) return { type: direct.t, via: direct.via, word: w.word };
  // A typedef name or a bare struct tag (`foo` of `struct foo`).
  const td = normType(index, w.word);
  if (isAggregate(td)) return { type: td, via: 'type-name', word: w.word };
  if (index.structs.has(`struct ${w.word}`)) return { type: `struct ${w.word}`, via: 'type-name', word: w.word };
  return null;
}
