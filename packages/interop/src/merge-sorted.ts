/**
 * Merges lists that are each already in order into one ordered list, taking every list's
 * items strictly in its own order even where `before` cannot tell two of them apart.
 * A binary heap over the lists' heads: O(n log k) for n items in k lists.
 */
export function mergeSorted<T>(lists: readonly (readonly T[])[], before: (a: T, b: T) => boolean) {
  const heap: { list: number; index: number }[] = [];
  const head = (entry: { list: number; index: number }) => lists[entry.list]![entry.index]!;
  const less = (i: number, j: number) => before(head(heap[i]!), head(heap[j]!));
  const swap = (i: number, j: number) => {
    [heap[i], heap[j]] = [heap[j]!, heap[i]!];
  };

  const push = (entry: { list: number; index: number }) => {
    heap.push(entry);
    for (let i = heap.length - 1; i > 0 && less(i, (i - 1) >> 1); i = (i - 1) >> 1) {
      swap(i, (i - 1) >> 1);
    }
  };
  const pop = () => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length === 0) return top;
    heap[0] = last;
    for (let i = 0; ;) {
      const [left, right] = [2 * i + 1, 2 * i + 2];
      let smallest = i;
      if (left < heap.length && less(left, smallest)) smallest = left;
      if (right < heap.length && less(right, smallest)) smallest = right;
      if (smallest === i) break;
      swap(i, smallest);
      i = smallest;
    }
    return top;
  };

  lists.forEach((list, index) => {
    if (list.length > 0) push({ list: index, index: 0 });
  });
  const merged: T[] = [];
  while (heap.length > 0) {
    const entry = pop();
    merged.push(head(entry));
    if (entry.index + 1 < lists[entry.list]!.length) {
      push({ list: entry.list, index: entry.index + 1 });
    }
  }
  return merged;
}
