// tsprof's library front end: `import { timeit, profile, lineProfile, memit, mprof, watch } from 'tsprof'`.
// The same engines as the notebook magics, returning the same result objects (`%timeit -o` …), for
// scripts, services and test runners; decorators and wrappers for code that should measure itself;
// baselines, instance counts and metrics for watching code over time.
export { timeit, type TimeitOptions } from './timeit.js';
export { profile, lineProfile, type ProfileOptions, type LineProfileOptions, type ProfileDecoratorOptions } from './profile.js';
export { memit, type MemitOptions, type MemitWatchOptions } from './memit.js';
export { mprof, type MprofOptions } from './mprof.js';
export { watch, watched, WatchStats, type Watched, type WatchOptions, type DriftOptions, type LeakOptions } from './watch.js';
export { timed, type TimedOptions } from './timed.js';
export { trackInstances, type TrackOptions, type Tracked, type InstanceCounts } from './instances.js';
export { prometheus, serveMetrics, statsd, useMetrics, PrometheusSink, StatsdSink, type MetricsSink, type CallSample, type MetricsServer, type PrometheusOptions, type StatsdOptions } from './metrics.js';
export { currentBaseline, writeBaseline, readBaseline, compareBaselines, comparisonTable, recordTimeit, writeBaselineAtExit, type Baseline, type BaselineEntry, type BaselineComparison, type BaselineStat, type ComparisonRow } from './baseline.js';
export { baselineCommand } from './baseline-cli.js';
export { warningMessage, type TsprofWarning } from './warnings.js';
export { report } from './report.js';
export { processHost } from './host.js';

// The result types, as the magics return them.
export { TimeitResult, CompareResult, type TimingWarning, type EmptyLoopTimes } from '../engines/timing.js';
export { MemitResult, type MemoryRow, type MemitRun } from '../engines/memit.js';
export { MprofResult, type Marker, type SeriesSummary } from '../engines/mprof.js';
export { ProfileResult, LineProfileResult } from './adapter.js';
export type { FunctionStats } from '../engines/pstats.js';
export type { FunctionLines, LineStats } from '../engines/line-profile.js';

import { writeBaselineAtExit } from './baseline.js';
writeBaselineAtExit();
