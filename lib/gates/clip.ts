/**
 * Shortening text for gate reasons and messages.
 *
 * @module
 */

/**
 * `text` cut to `n` characters, with a `…` where it was cut. Mask before clipping: a secret
 * cut in two is no longer recognised (the masker only catches its remnant next to the `…`).
 *
 * @param text what to shorten
 * @param n most characters kept before the `…`
 */
export function clip(text: string, n: number): string {
  return text.length > n ? `${text.slice(0, n)}…` : text;
}
