/**
 * What a monitor token may be: a bearer token as RFC 6750 spells one (`b64token`: letters, digits and
 * `-._~+/`, then optional `=` padding), so it travels in an `Authorization` header and in the dashboard's
 * address fragment unchanged. The server's configuration and the dashboard check the same rule.
 *
 * @module
 */

export const MONITOR_TOKEN_CHARACTERS_MIN = 16;
export const MONITOR_TOKEN_CHARACTERS_MAX = 256;
const MONITOR_TOKEN_PATTERN = /^[A-Za-z0-9._~+/-]+=*$/;
/** The rule in words, for error messages. */
export const MONITOR_TOKEN_RULE =
  `${MONITOR_TOKEN_CHARACTERS_MIN} to ${MONITOR_TOKEN_CHARACTERS_MAX} characters: letters, digits and -._~+/, then optional =`;

/** Tells whether text is a well-formed monitor token (its length within the bounds, its characters b64token). */
export function isMonitorToken(text: string): boolean {
  return text.length >= MONITOR_TOKEN_CHARACTERS_MIN && text.length <= MONITOR_TOKEN_CHARACTERS_MAX &&
    MONITOR_TOKEN_PATTERN.test(text);
}
