/** What a CLI command may touch: its output streams and the working directory. */
export interface CliIO {
  stdout(s: string): void;
  stderr(s: string): void;
  cwd: string;
}

/** A usage or I/O error: printed as one `refscope: error: ...` line, exit code 2. */
export class CliError extends Error {
  override name = 'CliError';
}

/** Signature of one subcommand in the command table of main.ts. */
export type Command = (argv: string[], io: CliIO) => Promise<number>;
