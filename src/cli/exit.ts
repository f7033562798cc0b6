/** Exit codes of the `outpost` command (docs/cli.md lists them for users). */
export const Exit = {
  /** Everything asked for was done. */
  OK: 0,
  /** An input was damaged or truncated; everything before the damage was processed. */
  DAMAGED: 1,
  /** The command line was wrong. */
  USAGE: 2,
  /** An input could not be opened, or is not a capture. */
  INPUT: 3,
  /** Live capture failed: tcpdump missing, no permission, no such interface, or a bad filter. */
  LIVE: 4,
  /** Stopped by SIGINT before the input ended (a live capture stopped this way exits OK). */
  INTERRUPTED: 130,
  /** Stopped by SIGTERM before the input ended (128 + 15, the shell's convention). */
  TERMINATED: 143,
} as const;

/** A mistake on the command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}
