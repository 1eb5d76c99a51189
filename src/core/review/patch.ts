/**
 * `git format-patch` / mbox series and unified diffs, parsed and applied in
 * memory (pure): hunks are placed by their context, at the line the header
 * names or the nearest offset where the old lines match (as `patch` does, without
 * fuzz), and a hunk that matches nowhere is an error naming the patch, the file
 * and the hunk header.
 */

export interface Hunk {
  /** The `@@ -a,b +c,d @@ ...` line. */
  header: string;
  oldStart: number;
  oldLines: string[];
  newLines: string[];
  /** The last new line has no newline at the end of the file. */
  newNoEol: boolean;
}

export interface FilePatch {
  /** Path before the patch (null for a new file), without the `a/` prefix. */
  oldPath: string | null;
  /** Path after the patch (null for a deleted file), without the `b/` prefix. */
  newPath: string | null;
  hunks: Hunk[];
  binary: boolean;
}

export interface Patch {
  /** 1-based position in the series. */
  index: number;
  /** The Subject: header without `[PATCH n/m]` (or the first line of a bare diff's preamble). */
  subject: string;
  files: FilePatch[];
}

export class PatchError extends Error {
  override name = 'PatchError';
}

const MBOX_FROM = /^From \S+ .*\b\d{4}$|^From [0-9a-f]{40} /;

/** Split an mbox (or a single format-patch file, or a bare diff) into its patches. */
export function parsePatchSeries(text: string): Patch[] {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const starts: number[] = [];
  for (let i = 0; i < lines.length; i++) if (MBOX_FROM.test(lines[i]!) && (i === 0 || lines[i - 1] === '' || starts.length === 0)) starts.push(i);
  if (starts.length === 0) starts.push(0);
  const out: Patch[] = [];
  for (let s = 0; s < starts.length; s++) {
    const msg = lines.slice(starts[s], s + 1 < starts.length ? starts[s + 1] : lines.length);
    const files = parseDiff(msg, s + 1);
    if (files.length === 0) continue; // a cover letter
    out.push({ index: out.length + 1, subject: subjectOf(msg, files), files });
  }
  if (out.length === 0) throw new PatchError('no diff found in the patch file');
  return out;
}

function subjectOf(msg: string[], files: readonly FilePatch[]): string {
  for (let i = 0; i < msg.length && msg[i] !== ''; i++) {
    const m = /^Subject:\s*(.*)$/i.exec(msg[i]!);
    if (!m) continue;
    let s = m[1]!;
    for (let j = i + 1; j < msg.length && /^[ \t]/.test(msg[j]!); j++) s += ' ' + msg[j]!.trim();
    return s.replace(/^(\[[^\]]*\]\s*)+/, '').trim();
  }
  // A bare diff has no message: name its files instead of quoting a diff line.
  const first = msg.find((l) => l.trim() !== '' && !MBOX_FROM.test(l));
  if (first === undefined || /^(diff |--- |\+\+\+ |Index: |index |@@ |=+$)/.test(first)) {
    const names = files.map((f) => f.newPath ?? f.oldPath ?? '?');
    return `diff of ${names.slice(0, 3).join(', ')}${names.length > 3 ? ` and ${names.length - 3} more` : ''}`;
  }
  return first.trim();
}

function stripPrefix(p: string): string | null {
  let path = p.replace(/\t.*$/, '').trim();
  if (path.startsWith('"') && path.endsWith('"')) path = path.slice(1, -1);
  if (path === '/dev/null') return null;
  return /^[ab]\//.test(path) ? path.slice(2) : path;
}

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

function parseDiff(lines: string[], patchNo: number): FilePatch[] {
  const files: FilePatch[] = [];
  let cur: FilePatch | null = null;
  let i = 0;
  const flush = () => {
    if (cur && (cur.hunks.length || cur.binary || cur.oldPath !== cur.newPath)) files.push(cur);
    cur = null;
  };
  while (i < lines.length) {
    const l = lines[i]!;
    const git = /^diff --git (\S+) (\S+)$/.exec(l);
    if (git) {
      flush();
      cur = { oldPath: stripPrefix(git[1]!), newPath: stripPrefix(git[2]!), hunks: [], binary: false };
      i++;
      continue;
    }
    if (l.startsWith('--- ') && i + 1 < lines.length && lines[i + 1]!.startsWith('+++ ')) {
      const oldPath = stripPrefix(l.slice(4));
      const newPath = stripPrefix(lines[i + 1]!.slice(4));
      if (!cur || cur.hunks.length) {
        flush();
        cur = { oldPath, newPath, hunks: [], binary: false };
      } else {
        cur.oldPath = oldPath;
        cur.newPath = newPath;
      }
      i += 2;
      continue;
    }
    if (cur) {
      if (l.startsWith('new file mode')) cur.oldPath = null;
      else if (l.startsWith('deleted file mode')) cur.newPath = null;
      else if (l.startsWith('rename from ')) cur.oldPath = l.slice(12);
      else if (l.startsWith('rename to ')) cur.newPath = l.slice(10);
      else if (l.startsWith('GIT binary patch') || l.startsWith('Binary files ')) cur.binary = true;
    }
    const h = HUNK.exec(l);
    if (h && cur) {
      const oldCount = h[2] === undefined ? 1 : Number(h[2]);
      const newCount = h[4] === undefined ? 1 : Number(h[4]);
      const hunk: Hunk = { header: l, oldStart: Number(h[1]), oldLines: [], newLines: [], newNoEol: false };
      i++;
      let o = 0;
      let n = 0;
      let lastKind = '';
      while (i < lines.length && (o < oldCount || n < newCount || lines[i]!.startsWith('\\'))) {
        const b = lines[i]!;
        if (b.startsWith('\\')) {
          if (lastKind !== '-') hunk.newNoEol = true;
          i++;
          continue;
        }
        const c = b === '' ? ' ' : b[0];
        const body = b.slice(1);
        if (c === ' ') {
          hunk.oldLines.push(body);
          hunk.newLines.push(body);
          o++;
          n++;
        } else if (c === '-') {
          hunk.oldLines.push(body);
          o++;
        } else if (c === '+') {
          hunk.newLines.push(body);
          n++;
        } else {
          throw new PatchError(`patch ${patchNo}: ${cur.newPath ?? cur.oldPath ?? '?'}: hunk ${l} is truncated`);
        }
        lastKind = c;
        i++;
      }
      if (o < oldCount || n < newCount) throw new PatchError(`patch ${patchNo}: ${cur.newPath ?? cur.oldPath ?? '?'}: hunk ${l} is truncated`);
      cur.hunks.push(hunk);
      continue;
    }
    i++;
  }
  flush();
  return files;
}

function sameAt(lines: readonly string[], at: number, want: readonly string[], loose: boolean): boolean {
  if (at < 0 || at + want.length > lines.length) return false;
  for (let k = 0; k < want.length; k++) {
    const a = lines[at + k]!;
    const b = want[k]!;
    if (a !== b && !(loose && a.trimEnd() === b.trimEnd())) return false;
  }
  return true;
}

/**
 * Apply one file's hunks to `text` (null: the file does not exist). Returns the
 * new text, or throws a PatchError naming `what` (e.g. "patch 2 (subject)"),
 * the file and the hunk that does not apply.
 */
export function applyFilePatch(text: string | null, fp: FilePatch, what: string): string | null {
  const file = fp.newPath ?? fp.oldPath ?? '?';
  if (fp.newPath === null) return null;
  if (text === null && fp.oldPath !== null) throw new PatchError(`${what}: ${file}: the file does not exist in the tree`);
  const src = text ?? '';
  const eol = src.endsWith('\n') || src === '';
  const lines = src === '' ? [] : (eol ? src.slice(0, -1) : src).split('\n');
  let delta = 0;
  let minAt = 0;
  let noEol = !eol && lines.length > 0;
  for (const h of fp.hunks) {
    const want = h.oldLines;
    const expected = Math.max(0, (want.length === 0 ? h.oldStart : h.oldStart - 1) + delta);
    let at = -1;
    for (const loose of [false, true]) {
      for (let d = 0; at < 0 && d <= lines.length + want.length; d++) {
        if (expected - d >= minAt && sameAt(lines, expected - d, want, loose)) at = expected - d;
        else if (sameAt(lines, expected + d, want, loose) && expected + d >= minAt) at = expected + d;
      }
      if (at >= 0) break;
    }
    if (at < 0) throw new PatchError(`${what}: ${file}: hunk ${h.header} does not apply`);
    lines.splice(at, want.length, ...h.newLines);
    if (at + h.newLines.length === lines.length) noEol = h.newNoEol;
    delta += at - expected + h.newLines.length - want.length;
    minAt = at + h.newLines.length;
  }
  if (lines.length === 0) return '';
  return lines.join('\n') + (noEol ? '' : '\n');
}
