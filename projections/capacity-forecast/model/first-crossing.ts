/** The first point whose upper 95% bound exceeds the capacity (a possible shortfall), or null. */
export function firstCrossing<P extends { readonly upper95: number }>(points: readonly P[], capacity: number): P | null {
  return points.find((point) => point.upper95 > capacity) ?? null;
}
