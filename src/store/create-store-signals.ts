/**
 * The subscriber list behind `Store.subscribe`, shared by every backend.
 */
import type { StoreSignal } from './store.ts';

/** A subscriber list: `subscribe` hands out unsubscribe functions, `emit` calls every listener. */
export interface StoreSignals {
  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: (signal: StoreSignal) => void): () => void;
  /**
   * Calls every listener with `signal`. A listener that throws is skipped: the write that caused the
   * signal has already committed, so a faulty subscriber must not turn it into a failed call.
   */
  emit(signal: StoreSignal): void;
}

/** Creates an empty subscriber list. */
export function createStoreSignals(): StoreSignals {
  const listeners = new Set<(signal: StoreSignal) => void>();
  return {
    subscribe(listener) {
      // why: wrap so that subscribing the same function twice gives two independent subscriptions.
      const entry = (signal: StoreSignal): void => listener(signal);
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
    emit(signal) {
      if (listeners.size === 0) return;
      // A copy, so that a listener that subscribes or unsubscribes while being called changes nothing here.
      for (const listener of [...listeners]) {
        try {
          listener(signal);
        } catch {
          // Deliberately ignored: see the TSDoc of `emit`.
        }
      }
    },
  };
}
