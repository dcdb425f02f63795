/**
 * A one-line progress bar for long work: fraction done, rate, ETA and any extra fields.
 * On a TTY it redraws in place (stderr); otherwise it prints a line at most every `logEveryMs`.
 */

export interface ProgressBarOptions {
  label: string;
  /** Total units of work (bytes, merges, steps...). */
  total: number;
  /** Unit shown in the rate, e.g. 'MB', 'merges', 'tok'. */
  unit: string;
  /** Divide raw units by this for display (1e6 for bytes → MB). */
  scale?: number;
  /** Units already done when the bar starts (a resumed download): counted in the fraction, not in the rate. */
  initial?: number;
  stream?: NodeJS.WriteStream;
  logEveryMs?: number;
}

export interface ProgressBar {
  update(done: number, fields?: Record<string, string | number>): void;
  finish(fields?: Record<string, string | number>): void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

function formatRate(rate: number): string {
  if (rate >= 1e6) return `${(rate / 1e6).toFixed(2)}M`;
  if (rate >= 1e4) return `${(rate / 1e3).toFixed(1)}k`;
  return rate >= 100 ? rate.toFixed(0) : rate.toFixed(2);
}

export function createProgressBar(options: ProgressBarOptions): ProgressBar {
  const stream = options.stream ?? process.stderr;
  const scale = options.scale ?? 1;
  const initial = options.initial ?? 0;
  const tty = Boolean(stream.isTTY);
  const logEveryMs = options.logEveryMs ?? 5000;
  const start = performance.now();
  let lastDraw = 0;
  let lastDone = 0;

  const render = (done: number, fields: Record<string, string | number>, final: boolean): string => {
    const elapsed = (performance.now() - start) / 1000;
    const fraction = options.total > 0 ? Math.min(1, done / options.total) : 1;
    const width = 24;
    const filled = Math.round(fraction * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const rate = elapsed > 0 ? (done - initial) / scale / elapsed : 0;
    const eta = done > initial ? (elapsed * (options.total - done)) / (done - initial) : Number.NaN;
    const extra = Object.entries(fields).map(([k, v]) => `${k} ${v}`).join('  ');
    const time = final ? `in ${formatDuration(elapsed)}` : `ETA ${formatDuration(eta)}`;
    return `${options.label} ${bar} ${(fraction * 100).toFixed(1).padStart(5)}%  ${formatRate(rate)} ${options.unit}/s  ${time}${extra ? '  ' + extra : ''}`;
  };

  return {
    update(done, fields = {}) {
      lastDone = done;
      const now = performance.now();
      if (tty) {
        if (now - lastDraw < 100) return;
        lastDraw = now;
        stream.write(`\r\x1b[2K${render(done, fields, false)}`);
      } else if (now - lastDraw >= logEveryMs) {
        lastDraw = now;
        stream.write(render(done, fields, false) + '\n');
      }
    },
    finish(fields = {}) {
      const line = render(Math.max(lastDone, options.total), fields, true);
      stream.write(tty ? `\r\x1b[2K${line}\n` : line + '\n');
    },
  };
}
