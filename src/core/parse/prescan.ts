/**
 * A cheap scan that tells whether a file contains any C outside preprocessor
 * directives and comments. Generated register headers (drm's `asic_reg/`: over
 * 80% of the bytes of drivers/gpu/drm) are nothing but `#define` lines: they
 * hold no function definition, declaration or type, so parsing them cannot
 * yield a finding, a summary or an index fact, and the analysis skips them.
 *
 * Conservative by construction: anything the scan does not recognise as a
 * directive, a comment or white space counts as C, so a file is skipped only
 * when it is certain that tree-sitter would give it no function, declaration or
 * type (macro bodies are opaque `preproc_arg` text to the grammar too).
 */

const NL = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
const FF = 12;
const VT = 11;
const HASH = 35;
const SLASH = 47;
const STAR = 42;
const QUOTE = 34;
const BACKSLASH = 92;

/** End (index after) of the block comment starting at `i` (`/*`); text.length when unterminated. */
function skipBlockComment(text: string, i: number): number {
  const end = text.indexOf('*/', i + 2);
  return end < 0 ? text.length : end + 2;
}

/** Index of the newline that ends the physical line containing `i` (or text.length). */
function lineEnd(text: string, i: number): number {
  const nl = text.indexOf('\n', i);
  return nl < 0 ? text.length : nl;
}

/** True when the newline at `nl` is spliced away by a backslash (`\` or `\` + CR before it). */
function continued(text: string, nl: number): boolean {
  let k = nl - 1;
  if (k >= 0 && text.charCodeAt(k) === CR) k--;
  return k >= 0 && text.charCodeAt(k) === BACKSLASH;
}

/**
 * Next offset >= `from` of a character, through a cache of the last answer: a
 * directive-only file is scanned line by line, and asking `indexOf` afresh on
 * every line would rescan the rest of the file each time a character is absent.
 */
class NextOf {
  /** The answer for queries from `from` on: the first occurrence at or after it (-1: none). */
  private at = -2;
  private from = 0;
  constructor(private readonly text: string, private readonly ch: string) {}
  get(from: number): number {
    if (this.at === -2 || from < this.from || (this.at >= 0 && this.at < from)) {
      this.at = this.text.indexOf(this.ch, from);
      this.from = from;
    }
    return this.at < 0 ? this.text.length : this.at;
  }
}

/** End of the directive starting at `i` (the `#`): the index of its final newline (or text.length). */
function skipDirective(text: string, i: number, slashes: NextOf, quotes: NextOf): number {
  const n = text.length;
  let k = i + 1;
  for (;;) {
    const nl = lineEnd(text, k);
    // A block comment or string that starts on this line may hide a newline or a `//`.
    let j = k;
    let next = nl;
    for (;;) {
      const sl = slashes.get(j);
      const qu = quotes.get(j);
      if (sl >= nl && qu >= nl) break;
      if (qu < sl) {
        j = qu + 1;
        while (j < nl) {
          const c = text.charCodeAt(j);
          if (c === BACKSLASH) j += 2;
          else if (c === QUOTE) break;
          else j++;
        }
        j++;
        continue;
      }
      const d = sl + 1 < n ? text.charCodeAt(sl + 1) : 0;
      if (d === STAR) {
        const e = skipBlockComment(text, sl);
        if (e > nl) {
          // The comment spans lines: the directive goes on after it, on its line.
          k = e;
          next = -1;
          break;
        }
        j = e;
        continue;
      }
      if (d === SLASH) break; // a line comment: the line ends the directive unless spliced
      j = sl + 1;
    }
    if (next < 0) continue;
    if (nl >= n) return n;
    if (!continued(text, nl)) return nl;
    k = nl + 1;
  }
}

/** Whether `text` contains anything besides preprocessor directives, comments and white space. */
export function hasCCode(text: string): boolean {
  const n = text.length;
  const slashes = new NextOf(text, '/');
  const quotes = new NextOf(text, '"');
  let i = 0;
  // Anything but white space and comments ends the scan, so every `#` reached
  // starts its line's first token: a directive.
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === NL || c === SPACE || c === TAB || c === CR || c === FF || c === VT) {
      i++;
    } else if (c === SLASH && i + 1 < n && text.charCodeAt(i + 1) === STAR) {
      i = skipBlockComment(text, i);
    } else if (c === SLASH && i + 1 < n && text.charCodeAt(i + 1) === SLASH) {
      // A line comment; a backslash at its end splices the next line into it.
      let nl = lineEnd(text, i);
      while (nl < n && continued(text, nl)) nl = lineEnd(text, nl + 1);
      i = nl;
    } else if (c === HASH) {
      i = skipDirective(text, i, slashes, quotes);
    } else if (c === BACKSLASH && i + 1 < n && (text.charCodeAt(i + 1) === NL || text.charCodeAt(i + 1) === CR)) {
      i++; // a stray line splice between directives
    } else {
      return true;
    }
  }
  return false;
}
