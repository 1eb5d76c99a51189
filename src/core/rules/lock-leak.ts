/**
 * lock-leak: a path returns with a lock held that this function acquired, while
 * other paths of the same function release it (so it is not a lock wrapper), and
 * the function is not annotated `__acquires`/`__cond_acquires` for it. Functions
 * that keep the lock exactly on their success returns and drop it on every error
 * return are conditional lock functions, not leaks; so are functions whose
 * returns holding the lock all return one of 0/1 (true/false) and whose returns
 * that released it all return the other, when the result is a bool, the name
 * says lock, or the lock is handed out through a pointer parameter.
 */
import { normLockText, type ExitRecord, type FunctionAnalysis } from '../analysis/locks';
import { keyField, lockKey } from '../analysis/lockid';
import { CHECKED_KINDS } from '../catalog/index';
import type { Finding } from '../types';
import { makeFinding } from './common';

function annotatedFor(fa: FunctionAnalysis, key: string): boolean {
  const list = [...fa.annotations.acquires, ...fa.annotations.condAcquires];
  return list.some((a) => {
    const k = lockKey(a);
    return k === key || keyField(k) === keyField(key);
  });
}

const LOCKISH = /lock|acquire|grab|begin|enter|claim|reserve|_start|prepare|(^|_)get$/i;

/** The variable a lock expression starts from (`&head->lock` -> head), or null. */
function lockRoot(text: string): string | null {
  return /^\(?&?\s*([A-Za-z_]\w*)\s*(?:->|\.)/.exec(text.trim())?.[1] ?? null;
}

function kindName(kind: string): string {
  return kind === 'unknown' ? 'lock' : kind;
}

export function lockLeak(fa: FunctionAnalysis, file: string): Finding[] {
  if (fa.failed) return [];
  const precise = fa.exits.filter((e) => !e.imprecise && e.at);
  const out: Finding[] = [];
  const keys = new Set<string>();
  for (const e of precise) {
    for (const h of e.held) {
      if (!h.uncertain && !h.fromCaller && (CHECKED_KINDS as readonly string[]).includes(h.kind)) keys.add(h.key);
    }
  }
  for (const key of keys) {
    if (annotatedFor(fa, key)) continue;
    const leaking: ExitRecord[] = precise.filter((e) => e.held.some((h) => h.key === key && !h.uncertain && !h.fromCaller));
    const releasing = precise.filter((e) => e.released.includes(key) && !e.held.some((h) => h.key === key));
    if (releasing.length === 0 || leaking.length === 0) continue; // wrapper, or never released here
    // conditional lock functions: the lock is kept on success (`return 0`) and dropped on every error return
    // (an error code the analysis cannot classify, `ret = FS_ERROR_BUSY; goto out;`, is still not a success)
    if (leaking.every((e) => e.retClass === 'success') && releasing.every((e) => e.retClass !== 'success' && e.retClass !== 'void')) continue;
    // conditional lock functions that signal with 1/0 or true/false: every return holding the lock returns
    // one constant and every return that released it the other (`while (!pin_page_for_write(...))`,
    // `if (exp_funnel_lock(s)) return;`); an errno/NULL split is the rule above and never this one
    // Only with evidence that the function means it: a bool result, a name that says lock, or the lock handed
    // to the caller through a pointer parameter (`*ptlp = ptl`); `if (err) return 1;` with the lock held is a leak.
    const held = new Set(leaking.map((e) => e.retConst));
    const dropped = new Set(releasing.map((e) => e.retConst));
    if (held.size === 1 && dropped.size === 1 && !held.has(undefined) && !dropped.has(undefined) && [...held][0] !== [...dropped][0]) {
      const text = leaking[0]!.held.find((h) => h.key === key)!.text;
      const boolean = held.has('true') || held.has('false');
      const handed = (fa.handedOut ?? []).includes(normLockText(text));
      if (boolean || LOCKISH.test(fa.name) || handed) continue;
    }
    // lookup-and-lock functions returning an object with the lock held, NULL/ERR_PTR after unlocking: only
    // when the name says so (`foo_get_locked`), otherwise it is the classic early return from a search loop ...
    if (leaking.every((e) => e.retClass !== 'error') && releasing.every((e) => e.retClass === 'error')) {
      if (LOCKISH.test(fa.name)) continue;
      // ... or when the lock held is the returned object's own, or one handed out with it through a pointer
      // parameter (`return head;` with `head->lock` held, `*tb_ret = tb`: inet_csk_find_open_port): a search
      // loop's early return holds the lock of the container it searched, not of what it found
      const root = lockRoot(leaking[0]!.held.find((h) => h.key === key)!.text);
      if (root && leaking.every((e) => e.retIdent === root || (fa.handedOut ?? []).includes(root))) continue;
    }
    leaking.sort((a, b) => a.at!.offset - b.at!.offset);
    const e = leaking[0]!;
    const h = e.held.find((x) => x.key === key && !x.uncertain)!;
    const rel = releasing[0]!;
    out.push(makeFinding('lock-leak', file, fa.name, e.at!,
      `${kindName(h.kind)} '${h.text}' acquired at line ${h.line} is still held when ${fa.name}() returns here (it is released on the path returning at line ${rel.at!.line})`,
      [...e.trace, { file, line: e.at!.line, column: e.at!.column, message: `returns with '${h.text}' held` }]));
  }
  return out;
}
