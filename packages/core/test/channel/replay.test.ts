import assert from "node:assert/strict";
import { test } from "node:test";
import { OhttpError, ReplayCache } from "@cloister/core";

const T0 = Date.parse("2026-01-01T00:00:00Z");
const at = (ms: number) => new Date(T0 + ms);
const enc = (n: number) => new Uint8Array(32).fill(n & 0xff).map((b, i) => (i === 0 ? n >> 8 : b));
const refused = (code: string) => (e: unknown) => e instanceof OhttpError && e.code === code;

test("a request is accepted once; its replay inside the window is refused", () => {
  const cache = new ReplayCache();
  cache.check(enc(1), at(0), at(500));
  assert.throws(() => cache.check(enc(1), at(0), at(1_000)), refused("ohttp.replay"));
  cache.check(enc(2), at(0), at(1_000));
  assert.equal(cache.size, 2);
});

test("a Date outside ±window is stale, either way, and so is an invalid Date", () => {
  const cache = new ReplayCache({ windowMs: 1_000 });
  assert.throws(() => cache.check(enc(1), at(0), at(1_001)), refused("ohttp.stale"));
  assert.throws(() => cache.check(enc(1), at(1_001), at(0)), refused("ohttp.stale"));
  assert.throws(() => cache.check(enc(1), new Date(Number.NaN), at(0)), refused("ohttp.stale"));
  cache.check(enc(1), at(1_000), at(0));
  cache.check(enc(2), at(0), at(1_000));
});

test("entries expire with the window, and a late replay is then stale, not accepted", () => {
  const cache = new ReplayCache({ windowMs: 1_000 });
  cache.check(enc(1), at(0), at(0));
  cache.check(enc(2), at(900), at(900));
  cache.check(enc(3), at(1_500), at(1_500));
  assert.equal(cache.size, 2, "the entry dated 0 left the window at 1500");
  assert.throws(() => cache.check(enc(1), at(0), at(1_500)), refused("ohttp.stale"));
  assert.throws(() => cache.check(enc(2), at(900), at(1_500)), refused("ohttp.replay"));
});

test("when full, the oldest entry is evicted and requests dated at or before it are stale", () => {
  const cache = new ReplayCache({ windowMs: 10_000, maxEntries: 3 });
  cache.check(enc(1), at(100), at(0));
  cache.check(enc(2), at(300), at(0));
  cache.check(enc(3), at(200), at(0));
  cache.check(enc(4), at(400), at(0)); // evicts enc(1), dated 100
  assert.equal(cache.size, 3);
  // The evicted request cannot come back: its Date is at the floor.
  assert.throws(() => cache.check(enc(1), at(100), at(0)), refused("ohttp.stale"));
  assert.throws(() => cache.check(enc(9), at(50), at(0)), refused("ohttp.stale"));
  // A newcomer older than everything remembered is refused rather than evicting.
  assert.throws(() => cache.check(enc(9), at(150), at(0)), refused("ohttp.stale"));
  assert.throws(() => cache.check(enc(3), at(200), at(0)), refused("ohttp.replay"));
  cache.check(enc(5), at(250), at(0)); // evicts enc(3), dated 200
  assert.throws(() => cache.check(enc(3), at(200), at(0)), refused("ohttp.stale"));
  assert.throws(() => cache.check(enc(2), at(300), at(0)), refused("ohttp.replay"));
});

test("eviction order follows the Date, whatever the arrival order", () => {
  const cache = new ReplayCache({ windowMs: 100_000, maxEntries: 50 });
  const dates = Array.from({ length: 200 }, (_, i) => (i * 7919) % 1000);
  const accepted: number[] = [];
  for (const [i, date] of dates.entries()) {
    try {
      cache.check(enc(i), at(date), at(0));
      accepted.push(i);
    } catch (e) {
      assert.ok(refused("ohttp.stale")(e));
    }
  }
  assert.equal(cache.size, 50);
  assert.ok(accepted.length > 50);
  // Every accepted request, remembered or evicted, must now be refused.
  for (const i of accepted) {
    assert.throws(() => cache.check(enc(i), at(dates[i] as number), at(0)), OhttpError);
  }
});

test("options are checked", () => {
  assert.throws(() => new ReplayCache({ windowMs: 0 }), refused("ohttp.invalid_argument"));
  assert.throws(() => new ReplayCache({ maxEntries: 1.5 }), refused("ohttp.invalid_argument"));
  assert.throws(
    () => new ReplayCache().check(enc(1), at(0), new Date(Number.NaN)),
    refused("ohttp.invalid_argument"),
  );
});
