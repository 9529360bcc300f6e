/**
 * Coalesces bursts of changes into one reaction: `task` runs once `ms` after the last `poke()`,
 * never twice at once; a poke while it runs makes one more run after it (so the last change
 * is always acted on). `task` handles its own errors.
 */
export class Debouncer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(private readonly ms: number, private readonly task: () => Promise<void>) {}

  poke(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fire(), this.ms);
  }

  /** Drops a pending run and waits for a running one. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private fire(): void {
    this.timer = undefined;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.task().finally(() => {
      this.running = undefined;
      if (this.again && !this.closed) {
        this.again = false;
        this.fire();
      }
    });
  }
}
