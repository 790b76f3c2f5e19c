/** A minimal typed event: `on(listener)` returns the function that unsubscribes. */
export class Emitter<T> {
  private listeners: ((event: T) => void)[] = [];

  get hasListeners(): boolean {
    return this.listeners.length > 0;
  }

  on = (listener: (event: T) => void): (() => void) => {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  };

  emit(event: T): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's bug must not change the outcome of the call it observes.
      }
    }
  }
}
