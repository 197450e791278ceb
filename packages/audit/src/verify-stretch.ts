import type { Tx } from '@medaxis/db';

import { genesisHash } from './canonical.ts';
import { walkChain, type AuditProblem, type Segment } from './walk.ts';

/**
 * A stretch of the chain that can be walked on its own: it starts at row 1 from the genesis
 * hash, or right after a sealed segment from the last hash that seal recorded (where the
 * sequential walk continues too, right or wrong).
 */
export interface Stretch {
  from: number;
  to: number;
  previous: Buffer;
  /** The sealed segments within it; none for the unsealed tail. */
  segments: Segment[];
}

/** What walking a stretch found: its first problems, how many in all, and its counts. */
export interface StretchResult {
  problems: AuditProblem[];
  problemCount: number;
  live: number;
  compacted: number;
  pruned: number;
  lastHash: Buffer;
}

/** Problems kept per walk (the report keeps as many); the count stays exact. */
export const keptProblems = 100;

/**
 * Cuts positions [1, to] into one stretch per sealed segment and one for the unsealed tail.
 * Only a well-formed seal chain is cut (segments from row 1 on, back to back, each with its
 * last hash): walking broken seals depends on where the walk came from, so such a chain is
 * one stretch, walked as a whole.
 */
export function stretchesOf(segments: readonly Segment[], to: number): Stretch[] {
  const whole = [{ from: 1, to, previous: genesisHash, segments: [...segments] }];
  const wellFormed = segments.every(
    (segment, index) =>
      segment.lastHash !== null &&
      segment.lastId >= segment.firstId &&
      segment.firstId === (index === 0 ? 1 : segments[index - 1]!.lastId + 1),
  );
  if (!wellFormed || (segments.at(-1)?.lastId ?? 0) > to) return whole;

  const stretches: Stretch[] = [];
  let previous = genesisHash;
  for (const segment of segments) {
    stretches.push({ from: segment.firstId, to: segment.lastId, previous, segments: [segment] });
    previous = segment.lastHash!;
  }
  const tailFrom = (segments.at(-1)?.lastId ?? 0) + 1;
  if (tailFrom <= to) stretches.push({ from: tailFrom, to, previous, segments: [] });
  return stretches;
}

/** Rows a stretch covers, retention's removed ones aside: what a worker spends its time on. */
export function stretchRows(stretch: Stretch): number {
  const pruned = stretch.segments
    .filter((segment) => segment.pruned)
    .reduce((sum, segment) => sum + segment.lastId - segment.firstId + 1, 0);
  return stretch.to - stretch.from + 1 - pruned;
}

/** Walks one stretch (walkChain) and collects what it found. */
export async function walkStretch(client: Tx, side: Tx, stretch: Stretch): Promise<StretchResult> {
  const problems: AuditProblem[] = [];
  let problemCount = 0;
  const walked = await walkChain(client, side, {
    ...stretch,
    report: (problem) => {
      problemCount++;
      if (problems.length < keptProblems) problems.push(problem);
    },
  });
  return {
    problems,
    problemCount,
    live: walked.live,
    compacted: walked.compacted,
    pruned: walked.pruned,
    lastHash: walked.lastHash,
  };
}

/** Joins stretch results in chain order: as if the whole chain had been walked in one go. */
export function joinStretches(results: readonly StretchResult[]): StretchResult {
  const joined: StretchResult = {
    problems: [],
    problemCount: 0,
    live: 0,
    compacted: 0,
    pruned: 0,
    lastHash: genesisHash,
  };
  for (const result of results) {
    joined.problems.push(...result.problems.slice(0, keptProblems - joined.problems.length));
    joined.problemCount += result.problemCount;
    joined.live += result.live;
    joined.compacted += result.compacted;
    joined.pruned += result.pruned;
    joined.lastHash = result.lastHash;
  }
  return joined;
}
