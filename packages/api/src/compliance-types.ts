/** What the compliance views receive, for the web app (types only). */
export type {
  AccessFact,
  BreakGlassReviewItem,
  ChainStatus,
  OutOfDepartmentFact,
  Page,
  ReviewStatus,
  SealView,
} from '@medaxis/audit';
