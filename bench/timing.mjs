// Timing helpers shared by the JS benchmarks. Benchmarks report medians
// (DESIGN.md); the stopping rule matches bench/bench_timing.h on the C++ side.

// How long to repeat one measurement: at least minReps runs and minSeconds,
// but a slow case stops after maxSeconds once it has 5 runs.
export const DEFAULT_BUDGET = { warmup: 2, minReps: 15, minSeconds: 1.0, maxSeconds: 3.0 };
export const QUICK_BUDGET = { warmup: 1, minReps: 5, minSeconds: 0.2, maxSeconds: 1.0 };

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// Ratios measured in pairs, one per round (nulls dropped) -> { median, min,
// max, rounds, asked, clock } or null. Pairing each round's two sides
// (measured minutes apart at most) keeps a change in the machine's speed
// between rounds out of the ratio; clock says what was timed ('cpu' or
// 'wall'); rounds < asked when some rounds had no ratio (a side missing).
export function pairedSummary(values, clock) {
  const v = values.filter((x) => Number.isFinite(x));
  return v.length
    ? { median: median(v), min: Math.min(...v), max: Math.max(...v), rounds: v.length, asked: values.length, clock }
    : null;
}

// " (3 of 5 rounds)" when rounds were dropped, else "".
export function droppedRounds(x) {
  return x.rounds < x.asked ? ` (${x.rounds} of ${x.asked} rounds)` : '';
}

// Runs `fn` (sync or async) under the budget; returns per-run milliseconds.
export async function timeRuns(fn, budget = DEFAULT_BUDGET) {
  for (let i = 0; i < budget.warmup; i++) await fn();
  const times = [];
  const start = performance.now();
  for (;;) {
    const t0 = performance.now();
    await fn();
    const t1 = performance.now();
    times.push(t1 - t0);
    const elapsed = (t1 - start) / 1000;
    if (times.length >= budget.minReps && elapsed >= budget.minSeconds) break;
    if (times.length >= 5 && elapsed >= budget.maxSeconds) break;
    if (times.length >= 5000) break;
  }
  return times;
}

// Deterministic uniform [0, 1) generator (mulberry32) for seeded inputs.
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
