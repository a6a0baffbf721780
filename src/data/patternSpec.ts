// Custom patterns for scripts: the pattern string of a data set (TrainConfig.pattern, a
// sweep grid's "pattern") built from patches or a mask, so a script need not write the
// inline JSON by hand. The string is validated against the image shape where it is used
// (makePattern), like a pattern file.

/** A rectangle of pixels set to `value` (one number, or one per channel); height and width default to 1. */
export interface Patch {
  row: number;
  col: number;
  height?: number;
  width?: number;
  value?: number | number[];
}

/** A 0/1 (or boolean) mask of the image size and the value its pixels are set to. */
export interface Mask {
  mask: (number | boolean)[][];
  value?: number | number[];
}

/**
 * The pattern string of a custom pattern: `customPattern([{ row: 0, col: 0, height: 3, width: 3, value: 1 }])`
 * patterns a 3x3 white square at the top left, as S2 does.
 */
export function customPattern(spec: readonly Patch[] | Mask): string {
  return JSON.stringify(spec);
}
