/**
 * Waiting, for the tools and tests that pace themselves (the fault proxy, the chaos checker).
 *
 * @module
 */

/** Resolves after `milliseconds`. */
export function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
