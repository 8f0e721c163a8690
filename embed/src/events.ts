import type { WidgetEvent } from './types';

type Listener = (payload: unknown) => void;

/** The host page's subscriptions. A throwing listener is reported and does not stop the others. */
export class Emitter {
  private readonly listeners = new Map<WidgetEvent, Set<Listener>>();

  on(event: WidgetEvent, listener: Listener): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => this.off(event, listener);
  }

  off(event: WidgetEvent, listener: Listener): void {
    this.listeners.get(event)?.delete(listener);
  }

  emit(event: WidgetEvent, payload?: unknown): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        listener(payload);
      } catch (error) {
        console.error(`Switchboard: a "${event}" listener threw`, error);
      }
    }
  }
}
