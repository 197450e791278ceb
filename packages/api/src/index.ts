export type * from './board-types.ts';
export type { Context, EventFeed, FeedMessage } from './context.ts';
export { trpcCodeFor } from './errors.ts';
export { appRouter, type AppRouter } from './router.ts';
