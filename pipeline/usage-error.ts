/** Bad flags or config, found before anything runs: the CLI prints the message and exits 2. */
export class UsageError extends Error {
  readonly name = "UsageError";
}
