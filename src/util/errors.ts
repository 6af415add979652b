/**
 * The base error of the toolkit. Every failure a user can cause (a bad file, a bad flag,
 * a damaged model folder) is a SerError with a stable `code` and a message a person
 * understands; the CLI prints `message` (and the stack only with --verbose).
 */
export class SerError extends Error {
  /** Stable machine-readable code, e.g. `audio/no-data`, `model/mismatch`. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SerError';
    this.code = code;
  }
}

export function isSerError(e: unknown): e is SerError {
  return e instanceof SerError;
}

/** A short one-line description of any thrown value, for reports and JSON error lines. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
