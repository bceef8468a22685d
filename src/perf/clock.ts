// The clocks perf reads: steps, kernels and the SIMD ceiling are timed on the same one.

/**
 * wall: elapsed time (what a user waits). cpu: this process's CPU time, steadier on a machine
 * shared with other jobs (a single-threaded runtime's CPU time is the one core's work).
 */
export const CLOCKS = ['wall', 'cpu'] as const;
export type Clock = (typeof CLOCKS)[number];

/** Seconds on the chosen clock, from an arbitrary origin. */
export function clockSeconds(clock: Clock): number {
  if (clock === 'wall') return performance.now() / 1000;
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}
