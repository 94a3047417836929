/**
 * Assertions for internal facts. A failed assert means our code is wrong, never that a peer misbehaved:
 * nothing catches {@link AssertionFailure}, so the process stops rather than run on with a wrong ledger.
 *
 * @module
 */

/** Thrown when an internal invariant does not hold. */
export class AssertionFailure extends Error {
  override name = "AssertionFailure";
}

/**
 * Stops the program when `condition` is false.
 *
 * @param condition The fact that must hold.
 * @param message What was expected, starting with a capital letter.
 */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new AssertionFailure(message);
}

/** Tells whether an error is a broken invariant that must never be swallowed. */
export function isAssertionFailure(error: unknown): boolean {
  return error instanceof AssertionFailure;
}
