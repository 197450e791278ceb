/** More undelivered messages than this means the client is not keeping up. */
const maxBacklog = 10_000;

/**
 * An unbounded-looking but capped queue between the event feed and one subscriber's async
 * generator. A subscriber that falls `maxBacklog` messages behind is ended with an error: its
 * client reconnects with its last event id and catches up from the event log, instead of the
 * server holding an ever-growing backlog for it.
 */
export function subscriberQueue<T>(signal: AbortSignal | undefined) {
  const items: T[] = [];
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  let ended = false;

  const end = () => {
    ended = true;
    wake?.();
  };
  signal?.addEventListener('abort', end, { once: true });

  return {
    push: (item: T) => {
      if (ended || failure) return;
      if (items.length >= maxBacklog) {
        failure = new Error('subscriber fell too far behind; reconnect to catch up');
        items.length = 0;
      } else {
        items.push(item);
      }
      wake?.();
    },
    async *[Symbol.asyncIterator](): AsyncGenerator<T> {
      try {
        for (;;) {
          if (failure) throw failure;
          const next = items.shift();
          if (next !== undefined) {
            yield next;
            continue;
          }
          if (ended) return;
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
      } finally {
        signal?.removeEventListener('abort', end);
      }
    },
  };
}
