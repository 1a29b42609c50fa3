// The receiver's in-flight bytes budget: bytes of requests that are still
// arriving (a gRPC message or an HTTP body not yet complete), across both
// protocols. Stalled clients cannot hold more than this between them; once it
// is spent, new requests are refused with a retryable status and a request
// whose next bytes do not fit is cut off. A request's bytes are released as
// soon as it is complete (from then on the memory_limiter governs it) or gone.

export class InflightBudget {
  private held = 0;

  constructor(
    readonly limit: number,
    private readonly onChange: (used: number) => void = () => undefined,
  ) {}

  /** Bytes of incomplete requests now. */
  get used(): number {
    return this.held;
  }

  /** True when not even one more byte fits. */
  get spent(): boolean {
    return this.held >= this.limit;
  }

  /** A hold for one request's bytes as they arrive. */
  open(): BudgetHold {
    return new BudgetHold(this);
  }

  /** @internal */ take(n: number): boolean {
    if (this.held + n > this.limit) return false;
    this.held += n;
    this.onChange(this.held);
    return true;
  }

  /** @internal */ give(n: number): void {
    this.held -= n;
    this.onChange(this.held);
  }
}

export class BudgetHold {
  private bytes = 0;
  private released = false;

  constructor(private readonly budget: InflightBudget) {}

  /** Counts `n` more bytes of the request; false (nothing taken) when they do not fit. */
  add(n: number): boolean {
    if (this.released) return true;
    if (!this.budget.take(n)) return false;
    this.bytes += n;
    return true;
  }

  /** Gives the request's bytes back (idempotent). */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.give(this.bytes);
    this.bytes = 0;
  }
}
