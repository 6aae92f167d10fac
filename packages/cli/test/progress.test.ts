import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { byteProgress, formatBytes, formatRate } from "../src/progress.js";

const GiB = 1024 ** 3;

/** A stream that keeps what is written; `isTTY` decides which display byteProgress picks. */
function sink(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        chunks.push(String(chunk));
        done();
      },
    }),
    { isTTY, columns: 120 },
  );
  return { stream, text: () => chunks.join("") };
}

describe("formatBytes / formatRate", () => {
  it("uses binary sizes and decimal rates", () => {
    assert.equal(formatBytes(0), "0 B");
    assert.equal(formatBytes(1023), "1023 B");
    assert.equal(formatBytes(1536), "1.5 KiB");
    assert.equal(formatBytes(1.2 * GiB), "1.2 GiB");
    assert.equal(formatRate(950e6), "950 MB/s");
    assert.equal(formatRate(2.5e6), "2.5 MB/s");
  });
});

describe("byteProgress", () => {
  it("prints plain periodic lines off a terminal, then the final state once", () => {
    let clock = 0;
    const { stream, text } = sink(false);
    const progress = byteProgress({ label: "hashing", stream, intervalMs: 1000, now: () => clock });
    clock = 500;
    progress.update(0.4 * GiB, 4 * GiB); // inside the first interval: silent
    clock = 1000;
    progress.update(1.2 * GiB, 4 * GiB);
    clock = 1500;
    progress.update(2 * GiB, 4 * GiB); // too soon after the last line
    clock = 4000;
    progress.update(4 * GiB, 4 * GiB);
    progress.stop();
    assert.deepEqual(text().split("\n"), [
      "hashing 1.2 GiB / 4.0 GiB (30%) 1288 MB/s ETA 3s",
      "hashing 4.0 GiB / 4.0 GiB (100%) 1074 MB/s ETA 0s",
      "",
    ]);
  });

  it("prints one line for a job shorter than the interval", () => {
    let clock = 0;
    const { stream, text } = sink(false);
    const progress = byteProgress({ label: "hashing", stream, now: () => clock });
    clock = 100;
    progress.update(1024, 2048);
    progress.update(2048, 2048);
    progress.stop();
    assert.equal(text(), "hashing 2.0 KiB / 2.0 KiB (100%) 0.0 MB/s ETA 0s\n");
  });

  it("draws a bar with sizes, rate and ETA on a terminal", () => {
    const { stream, text } = sink(true);
    const progress = byteProgress({ label: "hashing", stream });
    progress.update(GiB, 4 * GiB);
    progress.update(2 * GiB, 4 * GiB);
    progress.stop();
    assert.match(text(), /hashing [█░]+ 2\.0 GiB \/ 4\.0 GiB \(50%\) \d+ MB\/s ETA \d+s/);
  });
});
