/** Latency samples and their summary (milliseconds). */

export interface Summary {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
}

/** A growable buffer of latencies, cheap enough to record every request. */
export class Samples {
  private data = new Float64Array(1 << 16);
  length = 0;

  push(ms: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = ms;
  }

  summarise(seconds: number, errors: number): Summary {
    const sorted = this.data.slice(0, this.length).sort();
    const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN);
    return {
      requests: this.length,
      errors,
      seconds,
      rps: this.length / seconds,
      p50: at(0.5),
      p99: at(0.99),
      max: sorted.length ? sorted[sorted.length - 1]! : NaN,
    };
  }
}

/** The middle value (of an even count, the mean of the two middle ones); NaN for none. */
export function medianOf(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return NaN;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
