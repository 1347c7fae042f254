/** Exit codes the CLIs share: 0 done, 1 failed, 2 called wrongly; a signal's is 128 + its number. */
export const EXIT = { failed: 1, usage: 2 } as const;

/**
 * A failure a CLI reports as its message alone (no stack) and exits with
 * `exitCode`; `help`, when given, is printed after the message. Entry points
 * catch CliError, not a list of error classes.
 */
export class CliError extends Error {
  override name = "CliError";
  readonly exitCode: number;
  readonly help: string | null;

  constructor(message: string, options: { exitCode?: number; help?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options.exitCode ?? EXIT.failed;
    this.help = options.help ?? null;
  }
}

/** A mistake in how the command was called: exit 2, with the command's help. */
export class UsageError extends CliError {
  override name = "UsageError";

  constructor(message: string, help: string) {
    super(message, { exitCode: EXIT.usage, help });
  }
}
