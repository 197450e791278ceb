export type * from './board-types.ts';
export type { Context, EventFeed, FeedMessage } from './context.ts';
export {
  boardEventIn,
  boardFeedQuery,
  BoardCursor,
  replayBoardEvents,
  resolveBoardView,
  toBoardEvent,
  type BoardFeedQuery,
  type BoardView,
} from './board-feed.ts';
export { boardStreamClose, boardStreamCloseFor, trpcCodeFor } from './errors.ts';
export { appRouter, type AppRouter } from './router.ts';
