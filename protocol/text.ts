/**
 * The fixed words of the text protocol (the original design's commands and answers), shared by the server
 * that writes them and the client that reads them.
 *
 * @module
 */

export const CHECK_BALANCE = "Check Balance";
export const UPDATE_CONTACT = "Update Contact Information";
export const INVALID_REQUEST = "Invalid Request";
export const TRANSACTION_SUCCESSFUL = "Transaction Successful";
export const TRANSACTION_FAILED_PREFIX = "Transaction Failed: ";
export const CONTACT_UPDATED = "Contact Information Updated";
export const CONTACT_FAILED_PREFIX = "Contact Information Update Failed: ";
/** A text transfer whose outcome the server cannot confirm (its store failed): it may or may not have moved. */
export const TRANSACTION_UNKNOWN =
  "Transaction Status Unknown: the bank could not confirm this transfer; check your balance before trying again";
export const SERVICE_UNAVAILABLE = "Service Unavailable: try again later";
/** The start of the answer to a request over the identity's budget: `…retry in 2 s`. */
export const RATE_LIMITED_PREFIX = "Service Unavailable: rate limited, retry in ";

/** The answer to a request over the identity's budget. */
export function rateLimitedAnswer(retryAfterS: number): string {
  return `${RATE_LIMITED_PREFIX}${retryAfterS} s`;
}

/** The seed's Test Case 1: what `bank-client` sends when given no tasks. */
export const TASKS_DEFAULT: readonly string[] = [
  CHECK_BALANCE,
  "Transfer $100 to Account XYZ",
  UPDATE_CONTACT,
];

/** Tells whether a text answer reports that the task was refused. */
export function isFailureAnswer(answer: string): boolean {
  return answer === INVALID_REQUEST || answer.startsWith(TRANSACTION_FAILED_PREFIX) ||
    answer.startsWith(CONTACT_FAILED_PREFIX) || answer === TRANSACTION_UNKNOWN ||
    answer === SERVICE_UNAVAILABLE || answer.startsWith(RATE_LIMITED_PREFIX);
}
