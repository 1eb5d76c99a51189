/**
 * The part of the built-in Git extension's API (`vscode.git`, `getAPI(1)`) that
 * Refscope's review uses, typed here after extensions/git/src/api/git.d.ts.
 */
import * as vscode from 'vscode';

export interface GitBranch {
  readonly name?: string;
  readonly commit?: string;
  readonly type: number;
}

export interface GitCommit {
  readonly hash: string;
  readonly message: string;
  readonly authorName?: string;
  readonly commitDate?: Date;
}

export interface GitChange {
  readonly uri: vscode.Uri;
  readonly originalUri: vscode.Uri;
  readonly renameUri: vscode.Uri | undefined;
  readonly status: number;
}

export interface GitRepositoryState {
  readonly HEAD: GitBranch | undefined;
  readonly untrackedChanges: readonly GitChange[];
  readonly onDidChange: vscode.Event<void>;
}

export interface GitRepository {
  readonly rootUri: vscode.Uri;
  readonly state: GitRepositoryState;
  show(ref: string, path: string): Promise<string>;
  getCommit(ref: string): Promise<GitCommit>;
  diffWith(ref: string): Promise<GitChange[]>;
  getBranches(query: { remote?: boolean; sort?: 'alphabetically' | 'committerdate'; count?: number }): Promise<GitBranch[]>;
  log(options?: { maxEntries?: number }): Promise<GitCommit[]>;
}

export interface GitAPI {
  readonly state: 'uninitialized' | 'initialized';
  readonly onDidChangeState: vscode.Event<'uninitialized' | 'initialized'>;
  readonly repositories: readonly GitRepository[];
  toGitUri(uri: vscode.Uri, ref: string): vscode.Uri;
  getRepository(uri: vscode.Uri): GitRepository | null;
  openRepository(root: vscode.Uri): Promise<GitRepository | null>;
}

interface GitExtension {
  readonly enabled: boolean;
  getAPI(version: 1): GitAPI;
}

/** The Git API once the extension has found its repositories; a message saying why not otherwise. */
export async function gitApi(): Promise<GitAPI | string> {
  const ext = vscode.extensions.getExtension<GitExtension>('vscode.git');
  if (!ext) return 'the built-in Git extension (vscode.git) is not installed or is disabled';
  const exports = ext.isActive ? ext.exports : await ext.activate();
  if (!exports.enabled) return 'Git is disabled (setting git.enabled)';
  const api = exports.getAPI(1);
  if (api.state !== 'initialized') {
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        d.dispose();
        resolve();
      }, 10000);
      const d = api.onDidChangeState((s) => {
        if (s === 'initialized') {
          clearTimeout(t);
          d.dispose();
          resolve();
        }
      });
    });
  }
  return api;
}
