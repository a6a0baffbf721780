/**
 * An error caused by the user's input (a file, a value, a name): the CLI prints its
 * message as one line and exits with code 2, without a stack trace unless --debug.
 * The message names the file or value and what was expected.
 */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}

/** A shape or dtype mismatch inside the engine; names the op and the shapes. */
export class ShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}
