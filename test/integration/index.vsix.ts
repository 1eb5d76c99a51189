/**
 * Test entry for the packaged extension (scripts/vscode-test-vsix.mjs): runs in
 * code-server's Node extension host against the copy installed from the .vsix.
 */
import Mocha from 'mocha';
import { finish, makeReporter, type Counts } from './harness';

export async function run(): Promise<void> {
  const route = process.env.REFSCOPE_TEST_ROUTE ?? 'vscode-vsix';
  const counts: Counts = { passed: 0, failed: 0, pending: 0 };
  const mocha = new Mocha({ ui: 'tdd', timeout: 60000, color: false, reporter: makeReporter(route, counts) as unknown as Mocha.ReporterConstructor });
  mocha.suite.emit('pre-require', globalThis, 'refscope-integration', mocha);
  await import('./vsix/installed.test');
  const failures = await new Promise<number>((resolve) => mocha.run(resolve));
  return finish(counts, failures);
}
