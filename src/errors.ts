// Every error a user can cause and fix (a wrong option, a damaged data file, an unknown zoo id,
// a bad attack request, an invalid profile...) extends UserError: the CLIs print it as one line
// with no stack trace. Any other error is a bug and keeps its stack.
export class UserError extends Error {
  override name = 'UserError';
}

/** A wrong command-line argument or combination of options. */
export class UsageError extends UserError {
  override name = 'UsageError';
}

/** What crosses a worker boundary: `instanceof` does not survive structured cloning. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  userError: boolean;
}

export function serializeError(err: unknown): SerializedError {
  const e = err instanceof Error ? err : new Error(String(err));
  return { name: e.name, message: e.message, stack: e.stack, userError: err instanceof UserError };
}

/** The error as seen on this side of the boundary: a user error stays one, a bug keeps its remote stack. */
export function deserializeError(s: SerializedError): Error {
  const err = s.userError ? new UserError(s.message) : new Error(s.message);
  err.name = s.name;
  if (s.stack) err.stack = s.stack;
  return err;
}
