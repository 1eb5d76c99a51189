/** Git plumbing for `refscope check --since/--range`: read-only (`git diff`, `git cat-file`), no checkout. */
import { execFile, spawn } from 'node:child_process';
import { CliError } from './io';

function git(cwd: string, args: string[]): Promise<string> {
  return new Promise((resolveP, reject) => {
    execFile('git', args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') reject(new CliError('git not found (needed by --since/--range)'));
        else reject(new GitError(stderr.trim().split('\n')[0] || err.message));
      } else resolveP(stdout);
    });
  });
}

class GitError extends Error {
  override name = 'GitError';
}

export async function gitTopLevel(dir: string): Promise<string> {
  try {
    return (await git(dir, ['rev-parse', '--show-toplevel'])).trim();
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`not inside a git repository: ${dir}`);
  }
}

/** Full commit id of a revision, or a one-line CliError. */
export async function resolveRev(top: string, rev: string): Promise<string> {
  if (rev.startsWith('-')) throw new CliError(`bad revision '${rev}'`);
  try {
    return (await git(top, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`])).trim();
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`unknown revision '${rev}' (not a commit in ${top})`);
  }
}

export async function mergeBase(top: string, a: string, b: string): Promise<string> {
  try {
    return (await git(top, ['merge-base', a, b])).trim();
  } catch {
    throw new CliError(`no merge base between '${a}' and '${b}'`);
  }
}

export interface ChangedFile {
  /** Path at the base end, relative to the top level (null: added). */
  oldPath: string | null;
  /** Path at the head end (null: deleted). */
  newPath: string | null;
}

/** Files changed between `base` and `head` (null: the working tree, untracked files included), limited to pathspecs. */
export async function changedFiles(top: string, base: string, head: string | null, pathspecs: string[]): Promise<ChangedFile[]> {
  const args = ['diff', '--name-status', '-z', '-M', '--no-ext-diff', base, ...(head ? [head] : []), '--', ...pathspecs];
  const out = await git(top, args);
  const parts = out.split('\0');
  const files: ChangedFile[] = [];
  for (let i = 0; i < parts.length; ) {
    const status = parts[i++];
    if (!status) continue;
    const kind = status[0];
    if (kind === 'R' || kind === 'C') {
      const from = parts[i++]!;
      const to = parts[i++]!;
      files.push({ oldPath: kind === 'R' ? from : null, newPath: to });
    } else {
      const p = parts[i++]!;
      files.push({ oldPath: kind === 'A' ? null : p, newPath: kind === 'D' ? null : p });
    }
  }
  if (head === null) {
    const untracked = await git(top, ['ls-files', '--others', '--exclude-standard', '-z', '--', ...pathspecs]);
    for (const p of untracked.split('\0')) if (p) files.push({ oldPath: null, newPath: p });
  }
  return files;
}

/** Contents of `rev:path` for each path (one `git cat-file --batch` process). */
export function readBlobs(top: string, rev: string, paths: string[]): Promise<Map<string, string>> {
  return new Promise((resolveP, reject) => {
    const result = new Map<string, string>();
    if (paths.length === 0) {
      resolveP(result);
      return;
    }
    const child = spawn('git', ['cat-file', '--batch'], { cwd: top, stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', (e) => reject(new CliError(`cannot run git: ${e.message}`)));
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new CliError(`git cat-file failed: ${stderr.trim().split('\n')[0] ?? ''}`));
        return;
      }
      const buf = Buffer.concat(chunks);
      const dec = new TextDecoder('utf-8');
      let pos = 0;
      for (const p of paths) {
        const nl = buf.indexOf(10, pos);
        const header = buf.subarray(pos, nl).toString();
        pos = nl + 1;
        const m = /^\S+ (\S+) (\d+)$/.exec(header);
        if (!m || m[1] !== 'blob') {
          reject(new CliError(`cannot read ${rev}:${p} (${header})`));
          return;
        }
        const size = Number(m[2]);
        result.set(p, dec.decode(buf.subarray(pos, pos + size)));
        pos += size + 1;
      }
      resolveP(result);
    });
    child.stdin.end(paths.map((p) => `${rev}:${p}\n`).join(''));
  });
}
