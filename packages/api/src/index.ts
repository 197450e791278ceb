export type * from './board-types.ts';
export type { AuditSink, Context, EventFeed, FeedMessage } from './context.ts';
export { auditBoardRead, type BoardWatcher } from './board-audit.ts';
export type * from './compliance-types.ts';
export {
  boardAccess,
  boardEventIn,
  boardFeedQuery,
  BoardCursor,
  presentBoardEvent,
  replayBoardEvents,
  resolveBoardView,
  toBoardEvent,
  type BoardAccess,
  type BoardFeedQuery,
  type BoardView,
  type PresentedEvent,
} from './board-feed.ts';
export { boardStreamClose, boardStreamCloseFor, trpcCodeFor } from './errors.ts';
export { appRouter, type AppRouter } from './router.ts';
export type { DeviceView } from './devices.ts';
export type { UserView } from './users.ts';
export type { Hl7MessageSummary } from './hl7.ts';
export type { ImportRejectionSummary } from './imports.ts';
export type { QualityCheck, QualityItem } from '@medaxis/db';
