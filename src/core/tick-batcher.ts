/**
 * Coalesces single-key loads made during one event-loop turn into one batched load (the DataLoader
 * pattern): N concurrent `load(id)` calls cost one query instead of N.
 */
export class TickBatcher<K, V> {
  private pending: { key: K; resolve: (value: V | undefined) => void; reject: (err: unknown) => void }[] = [];
  private scheduled = false;

  constructor(
    private readonly loadMany: (keys: K[]) => Promise<Map<K, V>>,
    private readonly maxBatch = 500,
  ) {}

  load(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      this.pending.push({ key, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.pending.splice(0);
    for (let i = 0; i < batch.length; i += this.maxBatch) {
      const chunk = batch.slice(i, i + this.maxBatch);
      try {
        const found = await this.loadMany([...new Set(chunk.map((p) => p.key))]);
        for (const p of chunk) p.resolve(found.get(p.key));
      } catch (err) {
        for (const p of chunk) p.reject(err);
      }
    }
  }
}
