// The board is live data only: it renders in the browser from the snapshot and the stream.
export const ssr = false;
