/**
 * `refscope` command line. The same bundle (dist/cli.js) is the entry of the
 * worker threads that `check` starts: see the `isMainThread` test at the bottom.
 *
 * Subcommands live in one table; a new one is one import and one line.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { checkCommand } from './check';
import { indexCommand } from './index-command';
import { mergeCommand } from './merge';
import { lifecycleCommand } from './lifecycle';
import { scenariosCommand, simulateCommand } from './simulate';
import { CliError, type CliIO, type Command } from './io';
import { VERSION } from './version';
import { isWorkerInput, runWorker } from './worker';

export const commands: Record<string, Command> = {
  check: checkCommand,
  index: indexCommand,
  merge: mergeCommand,
  simulate: simulateCommand,
  scenarios: scenariosCommand,
  lifecycle: lifecycleCommand,
};

export const USAGE = `usage: refscope <command> [options]

commands:
  check [--format text|json|sarif] [--root DIR] [--jobs N] [--config FILE] PATH...
        find locking bugs in kernel C (lock-leak, double-lock, unlock-unheld, sleep-in-atomic)
        and reference-counting/RCU bugs; --index FILE reuses an index, --shard K/N runs one CI shard
  index [--root DIR] [--out FILE] [PATH...]
        build the index artifact (facts, summaries, results) that check --index reuses
  merge OUT IN...
        merge the JSON or SARIF outputs of sharded check runs into one unsharded result
  simulate [--format text|json] [--builtin ID] FILE...
        explore every interleaving of a race scenario (.rsim): safe, or a counterexample trace
  scenarios [--format text|json]
        list the built-in race-scenario library
  lifecycle --type "struct NAME" [--root DIR] [--format text|json] [--roles A,B] PATH...
        extract a refcounted type's lifecycle (lookups, release, roles) and check every pair of roles

  refscope <command> --help   help for one command
  refscope --version          print the version

exit status: 0 no findings, 1 findings, 2 usage or I/O error`;

/** Run the CLI with these arguments (without `node refscope`); returns the exit code. */
export async function main(argv: string[], io: CliIO): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
      io.stdout(USAGE + '\n');
      return first === undefined ? 2 : 0;
    }
    if (first === '--version' || first === '-v' || first === 'version') {
      io.stdout(`refscope ${VERSION}\n`);
      return 0;
    }
    const cmd = Object.prototype.hasOwnProperty.call(commands, first) ? commands[first] : undefined;
    if (!cmd) throw new CliError(`unknown command '${first}' (try: ${Object.keys(commands).join(', ')}; see refscope --help)`);
    return await cmd(rest, io);
  } catch (e) {
    if (e instanceof CliError) {
      io.stderr(`refscope: error: ${e.message}\n`);
      return 2;
    }
    const msg = e instanceof Error ? e.message : String(e);
    io.stderr(`refscope: error: ${msg.split('\n')[0]}\n`);
    if (process.env.REFSCOPE_DEBUG && e instanceof Error && e.stack) io.stderr(e.stack + '\n');
    return 2;
  }
}

/** stdout/stderr of this process, flushed before exit (pipes included). */
export function processIO(): CliIO {
  return {
    stdout: (s) => void process.stdout.write(s),
    stderr: (s) => void process.stderr.write(s),
    cwd: process.cwd(),
  };
}

/** Run as a program: arguments from process.argv, exit code into process.exitCode. */
export function run(): void {
  // A closed pipe (`refscope ... | head`) ends the output quietly, as grep does.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  main(process.argv.slice(2), processIO()).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`refscope: error: ${String(e)}\n`);
      process.exitCode = 2;
    },
  );
}

if (!isMainThread && isWorkerInput(workerData)) {
  void runWorker();
} else if (isMainThread && require.main === module) {
  // `node dist/cli.js ...`; bin/refscope.js calls run() itself.
  run();
}
