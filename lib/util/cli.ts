/**
 * What every command-line script shares: one-line errors with the right exit status, and Ctrl-C
 * or SIGTERM as a request to stop cleanly.
 *
 *   runCli(async () => { ...; return stop.exitCode; });   // "error: <message>" and exit 1 (2 for UsageError)
 *   const stop = onStopSignal(() => trainer.stop(), "stopping after this step and saving a checkpoint");
 */

/** Bad command-line input: the script prints the message and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Exit status for a process stopped by a signal, as shells report it: 128 + the signal's number. */
export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignalName = keyof typeof SIGNAL_EXIT_CODES;

/** The one line printed for an error, or its stack when COURSE_DEBUG=1. */
export function errorLine(error: unknown): string {
  if (process.env.COURSE_DEBUG === "1" && error instanceof Error && error.stack) return error.stack;
  const message = error instanceof Error ? error.message : String(error);
  return `error: ${message.trim().replace(/\s*\n\s*/g, " ")}`;
}

/**
 * Run a script's main function: exit with the status it returns (0 if none); an error prints one
 * line to stderr and exits 2 for a UsageError, 1 otherwise.
 */
export function runCli(main: () => Promise<number | void>): void {
  main().then(
    (code) => process.exit(typeof code === "number" ? code : 0),
    (error: unknown) => {
      process.stderr.write(errorLine(error) + "\n");
      process.exit(error instanceof UsageError ? 2 : 1);
    },
  );
}

export interface StopRequest {
  /** The first stop signal received, or null. */
  readonly signal: StopSignalName | null;
  /** 130 after SIGINT, 143 after SIGTERM, 0 when no signal came. */
  readonly exitCode: number;
  /** Remove the handlers (the default behaviour, dying at once, comes back). */
  dispose(): void;
}

/**
 * Treat SIGINT and SIGTERM as "stop at the next safe point": the first calls `stop` (after printing
 * `message` to stderr), a second one exits at once with the signal's status.
 *
 * `npm run` forwards the signal to its child, which in a terminal has already received the same
 * Ctrl-C from the process group: a repeat within `sameSignalMs` counts as that same press.
 * For npm to wait for the save, package.json starts scripts as `exec node --import tsx file.ts`:
 * without exec, sh (dash) dies of the Ctrl-C at once and npm exits with it while node still works;
 * the `tsx` launcher itself SIGKILLs its child about 60 ms after forwarding a signal.
 * `quit` runs just before quitting at once (e.g. to kill processes this one started).
 */
export function onStopSignal(
  stop: (signal: StopSignalName) => void,
  message: string,
  options: { quit?: () => void; sameSignalMs?: number } = {},
): StopRequest {
  const sameSignalMs = options.sameSignalMs ?? 250;
  let first: StopSignalName | null = null;
  let firstAt = 0;
  const handle = (signal: StopSignalName) => {
    if (first === null) {
      first = signal;
      firstAt = performance.now();
      process.stderr.write(`\n${signal}: ${message} (${signal === "SIGINT" ? "Ctrl-C" : "send it"} again to quit now)\n`);
      stop(signal);
    } else if (performance.now() - firstAt > sameSignalMs) {
      process.stderr.write(`\n${signal} again: quitting now\n`);
      options.quit?.();
      process.exit(SIGNAL_EXIT_CODES[first]);
    }
  };
  const handlers = (Object.keys(SIGNAL_EXIT_CODES) as StopSignalName[]).map((signal) => {
    const handler = () => handle(signal);
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return {
    get signal() {
      return first;
    },
    get exitCode() {
      return first === null ? 0 : SIGNAL_EXIT_CODES[first];
    },
    dispose() {
      for (const [signal, handler] of handlers) process.off(signal, handler);
    },
  };
}
