/**
 * What the bench driver and its child processes tell each other over the fork IPC channel.
 * Times travel as strings of `process.hrtime.bigint()` nanoseconds: CLOCK_MONOTONIC, one clock
 * for every process of the machine, so the driver subtracts them from its own readings.
 */

export interface MemorySample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

export interface ServerStatus {
  type: 'status';
  memory: MemorySample;
  /** Microseconds of user plus system CPU since the process started. */
  cpuMicros: number;
  /** Boards (product) or websocket clients (floor) the server currently serves. */
  subscribers: number;
}

export type ServerReport =
  { type: 'listening'; port: number } | { type: 'profiled'; file: string } | ServerStatus;

/** `collect`: run a full collection first, for a memory sample; not for a CPU sample. */
export type ServerRequest =
  | { type: 'status'; collect: boolean }
  /** Starts a CPU profile; `profile-stop` writes it to `file`, then reports `profiled`. */
  | { type: 'profile-start' }
  | { type: 'profile-stop'; file: string }
  | { type: 'stop' };

/**
 * `floor`: plain ws sockets on the floor server. `stream`: plain ws sockets on the product's
 * board stream (/board-stream, what wall displays use). `trpc`: tRPC clients subscribed to
 * `board.events` (what API clients use), for reference.
 */
export const ClientMode = { floor: 'floor', stream: 'stream', trpc: 'trpc' } as const;
export type ClientMode = (typeof ClientMode)[keyof typeof ClientMode];

export interface ClientsConfig {
  mode: ClientMode;
  url: string;
  boards: number;
  /** Product boards resume from here, as a board does after its snapshot. */
  lastEventId: string;
  /** The Cookie header each product board presents: a wall display's device token. */
  cookie?: string;
}

export type ClientsRequest =
  { type: 'clock'; driverNs: string } | { type: 'cpu' } | { type: 'stop' };

export type ClientsReport =
  | { type: 'clock'; clientNs: string }
  /** Microseconds of user plus system CPU since the process started. */
  | { type: 'cpu'; cpuMicros: number }
  | { type: 'ready' }
  /** Every board of the process has the event `key`: when the first got it, and the others. */
  | { type: 'round'; key: string; firstNs: string; afterFirstUs: number[] }
  | { type: 'failed'; message: string };
