import cliProgress from "cli-progress";

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;

/** "1.2 GiB": binary units, one decimal from KiB up. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** "950 MB/s": decimal, as disk and network rates are quoted. */
export function formatRate(bytesPerSecond: number): string {
  const mb = bytesPerSecond / 1e6;
  return mb >= 10 ? `${Math.round(mb)} MB/s` : `${mb.toFixed(1)} MB/s`;
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

export interface ByteProgress {
  /** The bytes done so far of `total`; call as often as you like. */
  update(done: number, total: number): void;
  /** Shows the final state once and releases the terminal line. */
  stop(): void;
}

export interface ByteProgressOptions {
  /** The verb shown first, e.g. "hashing". */
  readonly label: string;
  /** Default process.stderr, so stdout stays for results. */
  readonly stream?: NodeJS.WritableStream & { readonly isTTY?: boolean; readonly columns?: number };
  /** Plain (non-TTY) output: at most one line per this many ms (default 2000). */
  readonly intervalMs?: number;
  /** The clock, in ms; tests pin it. */
  readonly now?: () => number;
}

interface Figures {
  readonly done: string;
  readonly size: string;
  readonly percent: number;
  readonly rate: string;
  readonly eta: string;
}

/**
 * A progress display for a long byte-counted job: on a terminal a cli-progress bar with sizes,
 * rate and ETA; elsewhere (CI logs, pipes) a plain line now and then, such as
 * "hashing 1.2 GiB / 4.0 GiB (30%) 950 MB/s ETA 3s", so logs stay readable.
 */
export function byteProgress(options: ByteProgressOptions): ByteProgress {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? 2000;
  const started = now();
  let last: { done: number; total: number } | undefined;
  // The first plain line waits one interval: a short job prints only its final line.
  let printedAt = started;

  const figures = (done: number, total: number): Figures => {
    const seconds = Math.max(now() - started, 1) / 1000;
    const rate = done / seconds;
    return {
      done: formatBytes(done),
      size: formatBytes(total),
      percent: total === 0 ? 100 : Math.floor((100 * done) / total),
      rate: formatRate(rate),
      eta: formatSeconds(
        done >= total ? 0 : rate === 0 ? Number.POSITIVE_INFINITY : (total - done) / rate,
      ),
    };
  };

  if (stream.isTTY === true) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${options.label} {bar} {done} / {size} ({percentage}%) {rate} ETA {eta_text}`,
        hideCursor: true,
        barsize: 24,
        fps: 10,
      },
      cliProgress.Presets.shades_classic,
    );
    let running = false;
    return {
      update(done, total) {
        const { done: d, size, rate, eta } = figures(done, total);
        const payload = { done: d, size, rate, eta_text: eta };
        if (!running) {
          bar.start(total, done, payload);
          running = true;
        } else {
          bar.setTotal(total);
          bar.update(done, payload);
        }
      },
      stop() {
        if (running) bar.stop();
        running = false;
      },
    };
  }

  const print = (done: number, total: number) => {
    const f = figures(done, total);
    stream.write(`${options.label} ${f.done} / ${f.size} (${f.percent}%) ${f.rate} ETA ${f.eta}\n`);
    printedAt = now();
  };
  return {
    update(done, total) {
      last = { done, total };
      if (now() - printedAt < intervalMs) return;
      print(done, total);
      last = undefined;
    },
    stop() {
      if (last !== undefined) print(last.done, last.total);
      last = undefined;
    },
  };
}
