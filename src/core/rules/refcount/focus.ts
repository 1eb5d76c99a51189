/**
 * The part of a file the refcount rules can report on. Each rule has a function
 * filter (`REFCOUNT_INTERESTS`) over the names a function calls, and skips every
 * function the filter rejects; in a file that uses refcounts at all, most
 * functions are rejected by every rule. Those functions need not be parsed: the
 * workspace index knows where each definition of the file starts and ends (its
 * facts' `span`), so they are blanked out (every character but line ends becomes
 * a space, so every offset and line of the rest stays where it was) and only
 * what remains is parsed. The rules then see exactly the functions they would
 * have analysed in the whole file, with the same text and positions.
 *
 * Conservative: a damaged definition, a span that does not match the text (the
 * index was built from another version of the file) or overlapping spans leave
 * the file whole.
 */
import { functionOutlines, type WorkspaceIndex } from '../../index/workspace';
import { refcountInterest } from './index';
import { namesCalledIn, type InterestEnv } from './walk';


export interface Focus {
  /** The text to parse: `text` with the definitions no rule can report on blanked out (or `text` itself). */
  text: string;
  /** Definitions kept / blanked. */
  kept: number;
  blanked: number;
}

const SPACES = ' '.repeat(1024);

/**
 * Push `text[from, to)` blanked onto `parts`: every character but line ends a
 * space. One run of spaces per line, cut from a shared string (a per-character
 * regex replace was half of the focus's time on the whole tree).
 */
function pushBlank(parts: string[], text: string, from: number, to: number): void {
  let at = from;
  for (;;) {
    const nl = text.indexOf('\n', at);
    const end = nl < 0 || nl >= to ? to : nl;
    for (let n = end - at; n > 0; n -= SPACES.length) parts.push(n >= SPACES.length ? SPACES : SPACES.slice(0, n));
    if (end === to) return;
    parts.push('\n');
    at = end + 1;
  }
}

/**
 * The focused text of `file` for the refcount rules, or null when none of its
 * function definitions can get a finding (nothing to parse at all).
 */
export function refcountFocus(text: string, env: InterestEnv & { index: WorkspaceIndex }): Focus | null {
  // (the definitions' names and spans, read from the packed index without decoding their facts)
  const facts = functionOutlines(env.index, env.file);
  if (facts.length === 0) return { text, kept: 0, blanked: 0 };
  const drop: [number, number][] = [];
  let kept = 0;
  let last = 0;
  for (const f of facts) {
    const span = f.span;
    // stale or odd facts: analyse the whole file rather than guess
    if (span[1] === 0 || f.damaged || span[0] < last || span[1] > text.length || text.charCodeAt(span[1] - 1) !== 0x7d /* } */) return { text, kept: facts.length, blanked: 0 };
    const at = text.indexOf(f.name, span[0]);
    if (at < 0 || at >= span[1]) return { text, kept: facts.length, blanked: 0 };
    last = span[1];
    if (refcountInterest(env, f.name, namesCalledIn(text, span[0], span[1]))) kept++;
    else drop.push(span);
  }
  if (kept === 0) return null;
  if (drop.length === 0) return { text, kept, blanked: 0 };
  const parts: string[] = [];
  let at = 0;
  for (const [a, b] of drop) {
    parts.push(text.slice(at, a));
    pushBlank(parts, text, a, b);
    at = b;
  }
  parts.push(text.slice(at));
  return { text: parts.join(''), kept, blanked: drop.length };
}
