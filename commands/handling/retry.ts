/** Full-jitter exponential backoff: a random delay in [0, min(cap, base·2^attempt)). */
export const backoffDelay = (attempt: number, baseMs = 5, capMs = 250, random = Math.random): number =>
  Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
