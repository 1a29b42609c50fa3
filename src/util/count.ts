// "1 signed segment", "26,000 records": a count with thousands separators and the right noun.

/** `n` in en-US digits (26,000) with the singular noun for exactly one, else the plural (default: noun + "s"). */
export function countOf(n: number, singular: string, plural = `${singular}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? singular : plural}`;
}
