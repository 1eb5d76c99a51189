/**
 * Test entry for Node extension hosts (code-server's, or a desktop build via
 * @vscode/test-electron). `mocha` stays external and resolves from node_modules.
 */
import Mocha from 'mocha';
import * as vscode from 'vscode';
import { finish, makeReporter, type Counts } from './harness';

export async function run(): Promise<void> {
  (globalThis as { refscopeTestHost?: string }).refscopeTestHost = 'desktop';
  const route = process.env.REFSCOPE_TEST_ROUTE ?? 'vscode-node';
  const counts: Counts = { passed: 0, failed: 0, pending: 0 };
  // REFSCOPE_TEST_GREP (a suite or test title pattern) runs a subset while working on one feature.
  const grep = process.env.REFSCOPE_TEST_GREP;
  const mocha = new Mocha({ ui: 'tdd', timeout: 60000, color: false, reporter: makeReporter(route, counts) as unknown as Mocha.ReporterConstructor, ...(grep ? { grep } : {}) });
  mocha.suite.emit('pre-require', globalThis, 'refscope-integration', mocha);
  // The suites edit fixtures and never save them: auto-save (on by default in the web
  // workbench) would write intermediate states to disk and a later revert would load them.
  await vscode.workspace.getConfiguration('files').update('autoSave', 'off', vscode.ConfigurationTarget.Global);
  await import('./suite/diagnostics.test');
  await import('./suite/editor.test');
  await import('./suite/panel.test');
  await import('./suite/config.test');
  await import('./suite/large.test');
  await import('./suite/review.node.test');
  const failures = await new Promise<number>((resolve) => mocha.run(resolve));
  return finish(counts, failures);
}
