export { createProgressBar, formatDuration } from './progress.js';
export type { ProgressBar, ProgressBarOptions } from './progress.js';
