import { problemOf } from './compliance.ts';

export interface ReportPage<T> {
  total: number;
  items: T[];
}

/**
 * One compliance report on screen: its current page, loading and problem states, and the
 * time range it is read over. `to` is fixed when a search starts (each look at the trail is
 * itself audited, so an open range would shift under the pager).
 */
export class ReportState<T> {
  items = $state<T[]>([]);
  total = $state(0);
  offset = $state(0);
  loading = $state(false);
  problem = $state<string | null>(null);
  /** A search has run: an empty table then means "nothing found", not "not asked yet". */
  searched = $state(false);
  from = $state('');
  to = $state('');
  readonly limit: number;
  #fixedTo: string | undefined;
  readonly #fetch: (page: {
    from?: string;
    to?: string;
    limit: number;
    offset: number;
  }) => Promise<ReportPage<T>>;

  constructor(
    fetchPage: (page: {
      from?: string;
      to?: string;
      limit: number;
      offset: number;
    }) => Promise<ReportPage<T>>,
    limit = 50,
  ) {
    this.#fetch = fetchPage;
    this.limit = limit;
  }

  /** The range as the server takes it (ISO instants), `to` fixed at the start of a search. */
  range(): { from?: string; to?: string } {
    const from = instantOf(this.from);
    const to = instantOf(this.to) ?? this.#fixedTo;
    return { ...(from ? { from } : {}), ...(to ? { to } : {}) };
  }

  async search(): Promise<void> {
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a string is kept, not the Date
    this.#fixedTo = new Date().toISOString();
    await this.load(0);
  }

  async load(offset: number): Promise<void> {
    this.loading = true;
    this.problem = null;
    try {
      const page = await this.#fetch({ ...this.range(), limit: this.limit, offset });
      this.items = page.items;
      this.total = page.total;
      this.offset = offset;
      this.searched = true;
    } catch (error) {
      this.problem = problemOf(error);
      this.items = [];
      this.total = 0;
    } finally {
      this.loading = false;
    }
  }

  get hasNext(): boolean {
    return this.offset + this.limit < this.total;
  }

  get hasPrevious(): boolean {
    return this.offset > 0;
  }
}

function instantOf(local: string): string | undefined {
  if (local.trim() === '') return undefined;
  const at = new Date(local);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}
