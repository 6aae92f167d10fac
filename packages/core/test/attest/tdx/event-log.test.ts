import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  bootSummary,
  checkReplay,
  EV,
  type EventLog,
  eventDigestMatches,
  parseCcelTable,
  parseEventLog,
  type Rtmrs,
  replayRtmrs,
  TCG_ALG,
} from "../../../src/attest/tdx/index.js";
import { toHex } from "../../../src/bytes.js";
import { ParseError } from "../../../src/errors.js";
import { mutate, mutation, parsedOrRefused } from "../../support/fuzz.js";
import { TESTVECTORS, VECTOR_INDEX, vectorEntry } from "../../support/testvectors.js";

const read = (path: string) => new Uint8Array(readFileSync(`${TESTVECTORS}${path}`));
const sha384 = (bytes: Uint8Array | string) =>
  new Uint8Array(createHash("sha384").update(bytes).digest());

/** The TD report body follows the 48-byte v4 header; RTMR0..3 sit at body offsets 328..472. */
function quoteRtmrs(quote: Uint8Array): Rtmrs {
  const at = (i: number) => quote.slice(48 + 328 + 48 * i, 48 + 376 + 48 * i);
  return [at(0), at(1), at(2), at(3)];
}

/** Throws unless `run` throws a ParseError with this code, a field, and an offset in range. */
function parseFails(run: () => unknown, code: string, length: number): ParseError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ParseError, `expected a ParseError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.ok(error.field.length > 0);
    assert.ok(error.offset !== undefined && error.offset >= 0 && error.offset <= length);
    return error;
  }
  assert.fail(`expected ParseError ${code}`);
}

/** Every TDX vector that ships a CCEL log area, from index.json. */
const ccelVectors = VECTOR_INDEX.filter((e) => e.tee === "tdx").flatMap((entry) => {
  const log = entry.files.ccel_data ?? entry.files.ccel;
  return log === undefined || entry.files.quote === undefined
    ? []
    : [{ entry, log: read(log), quote: read(entry.files.quote) }];
});

/**
 * trustee ships CCEL_data beside tdx_quote_4.dat, but they are not one TD's evidence: its
 * parse_tdx_claims test only puts both in one JSON, and its own eventlog crate pins this very
 * log to other RTMRs (deps/eventlog/src/lib.rs, test_rtmr_integrity, case "./test_data/CCEL_data",
 * a byte-identical file). The replay must reproduce those, and must refuse the quote.
 */
const TRUSTEE_LOG_RTMRS = [
  "2dc712306a963eadb894ad47dbaa17df44814151555aee11cbb843becca88950ffd079664902e6f22c66f7c8213543f4",
  "0fa3be56af61208bbd179dc7b124988eb929319154663c539d6f46445ecac2fec287075047ff7bd1922829fec28cd3cf",
  "0".repeat(96),
  "0".repeat(96),
];

test("index.json lists the two TDX vectors that ship a CCEL", () => {
  assert.deepEqual(ccelVectors.map((v) => v.entry.id).sort(), [
    "tdx/go-tdx-guest-gcp-ccel",
    "tdx/trustee-quote4",
  ]);
});

describe("replay against the quote", () => {
  for (const { entry, log, quote } of ccelVectors) {
    test(entry.id, async () => {
      const rtmrs = quoteRtmrs(quote);
      // The offsets read what the corpus's own quote parser read.
      const parsed = entry.parsed as Record<string, string>;
      for (const [i, r] of rtmrs.entries()) assert.equal(toHex(r), parsed[`rtmr${i}`]);

      const events = parseEventLog(log);
      const replayed = (await replayRtmrs(events)).map(toHex);
      const checks = await checkReplay(events, rtmrs);
      if (entry.expected.includes("replays to RTMR0..2")) {
        assert.deepEqual(replayed.slice(0, 3), rtmrs.slice(0, 3).map(toHex));
        assert.deepEqual(
          checks.map((c) => [c.code, c.status]),
          [
            ["tdx.event_log.rtmr_replay", "pass"],
            ["tdx.event_log.rtmr_replay", "pass"],
            ["tdx.event_log.rtmr_replay", "pass"],
            ["tdx.event_log.rtmr_replay", "skip"],
          ],
        );
      } else {
        assert.equal(entry.id, "tdx/trustee-quote4");
        assert.deepEqual(replayed, TRUSTEE_LOG_RTMRS);
        assert.deepEqual(
          checks.map((c) => [c.code, c.status]),
          [
            ["tdx.event_log.rtmr_mismatch", "fail"],
            ["tdx.event_log.rtmr_mismatch", "fail"],
            ["tdx.event_log.rtmr_replay", "pass"],
            ["tdx.event_log.rtmr_replay", "skip"],
          ],
        );
        assert.match(checks[0]?.message ?? "", /^RTMR0 /);
        assert.match(checks[1]?.message ?? "", /^RTMR1 /);
      }
    });
  }
});

describe("go-tdx-guest GCP CCEL (EDK2 + shim + GRUB, Container-Optimized OS)", () => {
  const entry = vectorEntry("tdx/go-tdx-guest-gcp-ccel");
  const tableBytes = read(entry.files.ccel_table as string);
  const logBytes = read(entry.files.ccel_data as string);

  test("the ACPI table describes the log area", () => {
    const table = parseCcelTable(tableBytes);
    assert.equal(table.ccType, 2);
    assert.equal(table.ccSubtype, 0);
    assert.equal(table.revision, 1);
    assert.equal(table.oemId, "INTEL ");
    assert.equal(table.oemTableId, "EDK2    ");
    assert.equal(table.logAreaMinimumLength, logBytes.length);
    assert.equal(table.logAreaStartAddress, 0xbedbf000n);
  });

  test("the log frames, names and describes its events", () => {
    const table = parseCcelTable(tableBytes);
    const log = parseEventLog(logBytes, { logAreaLength: table.logAreaMinimumLength });
    assert.deepEqual(log.algorithms, [{ id: TCG_ALG.sha384, size: 48 }]);
    assert.deepEqual(log.specId.specVersion, { major: 2, minor: 0, errata: 0 });
    assert.equal(log.specId.uintnSize, 2);
    // The area is 256 KiB of 0xFF fill after the last event.
    assert.ok(logBytes.subarray(log.length).every((b) => b === 0xff));
    assert.ok(log.length < logBytes.length);
    for (const e of log.events) {
      assert.equal(e.digests.size, 1);
      assert.equal(e.sha384, e.digests.get(TCG_ALG.sha384));
      assert.equal(e.register, ["MRTD", "RTMR0", "RTMR1", "RTMR2", "RTMR3"][e.mrIndex]);
    }
    const described = (typeName: string) =>
      log.events.filter((e) => e.typeName === typeName).map((e) => e.description);
    assert.deepEqual(described("EV_EFI_HANDOFF_TABLES2"), ["TdxTable"]);
    assert.deepEqual(described("EV_EFI_PLATFORM_FIRMWARE_BLOB2"), [
      "Fv(48DB5E17-707C-472D-91CD-1613E7EF51B0)",
    ]);
    assert.deepEqual(described("EV_EFI_VARIABLE_DRIVER_CONFIG"), [
      "SecureBoot",
      "PK",
      "KEK",
      "db",
      "dbx",
    ]);
    assert.deepEqual(described("EV_EFI_VARIABLE_AUTHORITY"), ["SbatLevel", "MokListTrusted"]);
    const boot = described("EV_EFI_VARIABLE_BOOT");
    assert.equal(boot[0], "BootOrder");
    assert.match(boot[1] ?? "", /^Boot0001: UEFI /);
    assert.deepEqual(described("EV_EFI_BOOT_SERVICES_APPLICATION"), [
      "\\EFI\\BOOT\\BOOTX64.EFI",
      "\\EFI\\BOOT\\grub-lakitu.efi",
    ]);
    assert.deepEqual(described("EV_EFI_ACTION"), [
      "Calling EFI Application from Boot Option",
      "Exit Boot Services Invocation",
      "Exit Boot Services Returned with Success",
    ]);
    assert.deepEqual(described("EV_PLATFORM_CONFIG_FLAGS"), [
      "ACPI DATA",
      "ACPI DATA",
      "ACPI DATA",
    ]);
    assert.match(described("EV_EFI_GPT_EVENT")[0] ?? "", /^GPT with \d+ partitions$/);
    assert.ok(described("EV_SEPARATOR").every((d) => d === undefined));
    const ipl = described("EV_IPL");
    assert.ok(ipl.includes("/syslinux/vmlinuz.A"));
    assert.ok(ipl.includes("grub_cmd: set timeout=0"));
    assert.ok(ipl.some((d) => d?.startsWith("kernel_cmdline: /syslinux/vmlinuz.A ")));
    // Shim and GRUB measure into CC MR 3 (PCR 8/9 -> RTMR2); EFI actions into MR 2 (RTMR1).
    assert.ok(log.events.filter((e) => e.type === EV.IPL).every((e) => e.register === "RTMR2"));
  });

  test("bootSummary pins the kernel, its command line and the boot chain", async () => {
    const log = parseEventLog(logBytes);
    const summary = await bootSummary(log);
    const cmdlineEvent = log.events.find((e) =>
      e.description?.startsWith("kernel_cmdline: "),
    ) as NonNullable<(typeof log.events)[number]>;
    const kernelEvent = log.events.find((e) => e.description === "/syslinux/vmlinuz.A");
    // GRUB hashes the text after its "kernel_cmdline: " label; the summary returns that text.
    assert.ok(
      summary.kernelCmdline?.startsWith("/syslinux/vmlinuz.A init=/usr/lib/systemd/systemd"),
    );
    assert.deepEqual(sha384(summary.kernelCmdline ?? ""), cmdlineEvent.sha384);
    assert.deepEqual(summary.kernel, {
      register: "RTMR2",
      sha384: toHex(kernelEvent?.sha384 ?? new Uint8Array()),
      path: "/syslinux/vmlinuz.A",
    });
    assert.deepEqual(
      summary.bootApplications.map((a) => [a.register, a.path]),
      [
        ["RTMR1", "\\EFI\\BOOT\\BOOTX64.EFI"],
        ["RTMR1", "\\EFI\\BOOT\\grub-lakitu.efi"],
      ],
    );
    assert.ok(summary.bootApplications.every((a) => /^[0-9a-f]{96}$/.test(a.sha384)));
    // SecureBoot = 0 on this COS image, and the variable's digest covers its data.
    assert.equal(summary.secureBoot, false);
  });

  test("a kernel_cmdline whose text was edited is not reported", async () => {
    const log = parseEventLog(logBytes);
    const event = log.events.find((e) => e.description?.startsWith("kernel_cmdline: "));
    const at = (event?.offset ?? 0) + 66 + "kernel_cmdline: /syslinux/vmlinuz.A ".length;
    const edited = logBytes.slice();
    edited[at] = "X".charCodeAt(0);
    const tampered = parseEventLog(edited);
    // Replay still matches (the digest did not change), so the summary must check the text.
    const quote = quoteRtmrs(read(entry.files.quote as string));
    assert.ok((await checkReplay(tampered, quote)).slice(0, 3).every((c) => c.status === "pass"));
    const summary = await bootSummary(tampered);
    assert.equal(summary.kernelCmdline, undefined);
    assert.equal(summary.kernel, undefined);
  });

  test("a flipped digest byte fails the replay of exactly that RTMR", async () => {
    const log = parseEventLog(logBytes);
    const quote = quoteRtmrs(read(entry.files.quote as string));
    for (const mrIndex of [1, 2, 3]) {
      const event = log.events.find((e) => e.mrIndex === mrIndex && e.type !== EV.NO_ACTION);
      assert.ok(event !== undefined);
      const bytes = logBytes.slice();
      // pcrIndex, eventType, digest count, algorithm id: the SHA-384 digest starts at +14.
      const at = event.offset + 14 + 17;
      bytes[at] = (bytes[at] as number) ^ 0x01;
      const checks = await checkReplay(parseEventLog(bytes), quote);
      checks.forEach((check, i) => {
        if (i === mrIndex - 1) {
          assert.equal(check.code, "tdx.event_log.rtmr_mismatch");
          assert.equal(check.status, "fail");
          assert.match(check.message, new RegExp(`^RTMR${i} `));
        } else {
          assert.notEqual(check.status, "fail", check.message);
        }
      });
    }
  });

  test("a non-zero RTMR3 the log does not explain fails", async () => {
    const quote = quoteRtmrs(read(entry.files.quote as string));
    const extended: Rtmrs = [quote[0], quote[1], quote[2], sha384("runtime")];
    const checks = await checkReplay(parseEventLog(logBytes), extended);
    assert.deepEqual([checks[3]?.code, checks[3]?.status], ["tdx.event_log.rtmr_mismatch", "fail"]);
    assert.match(checks[3]?.message ?? "", /no RTMR3 events/);
  });

  test("malformed tables and logs are ParseErrors naming the problem", () => {
    const table = tableBytes.slice();
    table[20] = (table[20] as number) + 1;
    parseFails(() => parseCcelTable(table), "tdx.ccel.checksum", table.length);
    parseFails(() => parseCcelTable(tableBytes.subarray(0, 40)), "tdx.ccel.table_length", 40);
    const renamed = tableBytes.slice();
    renamed[0] = "X".charCodeAt(0);
    parseFails(() => parseCcelTable(renamed), "tdx.ccel.signature", renamed.length);

    const log = parseEventLog(logBytes);
    const last = log.events.at(-1);
    assert.ok(last !== undefined);
    // Cut inside the last event.
    const cut = logBytes.subarray(0, last.offset + 40);
    parseFails(() => parseEventLog(cut), "tdx.ccel.truncated", cut.length);
    // A byte in the fill after the end.
    const dirty = logBytes.slice();
    dirty[log.length + 1000] = 0x42;
    const error = parseFails(() => parseEventLog(dirty), "tdx.ccel.trailing_data", dirty.length);
    assert.equal(error.offset, log.length + 1000);
    // MR index 5 names no TDX register.
    const badIndex = logBytes.slice();
    badIndex[last.offset] = 5;
    parseFails(() => parseEventLog(badIndex), "tdx.ccel.mr_index", badIndex.length);
    // The Spec ID event declares SHA-256 with 48-byte digests.
    const badAlg = logBytes.slice();
    badAlg[32 + 28] = TCG_ALG.sha256;
    parseFails(() => parseEventLog(badAlg), "tdx.ccel.algorithms", badAlg.length);
    // A log that is only fill has no Spec ID event.
    const blank = new Uint8Array(4096).fill(0xff);
    parseFails(() => parseEventLog(blank), "tdx.ccel.spec_id", blank.length);
    // An event carrying a digest for an algorithm the header did not declare.
    const undeclared = logBytes.slice();
    undeclared[last.offset + 12] = 0x0b;
    parseFails(() => parseEventLog(undeclared), "tdx.ccel.digests", undeclared.length);
    // An event with no digests at all: nothing to extend, so it cannot be replayed.
    const digestless = logBytes.slice();
    digestless[last.offset + 8] = 0;
    parseFails(() => parseEventLog(digestless), "tdx.ccel.digests", digestless.length);
  });
});

describe("trustee CCEL (td-shim) against parse_tdx_claims_expected.json", () => {
  const entry = vectorEntry("tdx/trustee-quote4");
  const log = parseEventLog(read(entry.files.ccel as string));
  const expected = JSON.parse(
    readFileSync(`${TESTVECTORS}${entry.files.expected_claims}`, "utf8"),
  ) as {
    uefi_event_logs: {
      index: number;
      type_name: string;
      event: string;
      digest_matches_event: boolean;
      digests: { alg: string; digest: string }[];
      details: { string?: string };
    }[];
  };

  test("the events match trustee's, one for one", async () => {
    const events = expected.uefi_event_logs;
    assert.equal(log.events.length, events.length);
    for (const [i, want] of events.entries()) {
      const got = log.events[i];
      assert.ok(got !== undefined);
      assert.equal(got.mrIndex, want.index);
      assert.equal(got.typeName, want.type_name);
      assert.deepEqual(got.data, new Uint8Array(Buffer.from(want.event, "base64")));
      assert.deepEqual(
        want.digests.map((d) => [d.alg, d.digest]),
        [["SHA-384", toHex(got.sha384)]],
      );
      assert.equal(await eventDigestMatches(got), want.digest_matches_event);
      if (want.details.string) assert.equal(got.description, want.details.string);
      if (want.details.string === undefined) assert.equal(got.description, undefined);
    }
  });

  test("bootSummary reads td-shim's payload and command line", async () => {
    const summary = await bootSummary(log);
    assert.equal(summary.kernelCmdline, "root=/dev/vda1 console=hvc0 rw");
    const payload = expected.uefi_event_logs.find((e) => e.details.string === "td_payload");
    assert.deepEqual(summary.kernel, { register: "RTMR1", sha384: payload?.digests[0]?.digest });
    assert.deepEqual(summary.bootApplications, []);
    assert.equal(summary.secureBoot, undefined);
  });
});

describe("totality", () => {
  const total = <T>(parse: (bytes: Uint8Array) => T, bytes: Uint8Array) =>
    parsedOrRefused(parse, bytes, /^tdx\.ccel\./);

  // The real logs up to their end plus some fill, so that mutations land in events.
  const seeds = ccelVectors.map(({ log }) => log.subarray(0, parseEventLog(log).length + 64));
  const table = read(vectorEntry("tdx/go-tdx-guest-gcp-ccel").files.ccel_table as string);

  test("parseEventLog only ever throws ParseError (2,000 mutations)", () => {
    let parsed = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        (seed, edits) => {
          const log = total(parseEventLog, mutate(seed, edits));
          if (log !== undefined) parsed++;
        },
      ),
      { numRuns: 2000 },
    );
    // About a quarter of the edit chains leave the framing intact (truncations and appended
    // bytes break it), so the property reaches the description decoders, not only the headers.
    assert.ok(parsed > 300, `only ${parsed} mutated logs parsed`);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        total(parseEventLog, bytes);
      }),
      { numRuns: 1000 },
    );
  });

  test("replay and summary never throw on whatever parses", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...seeds),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        async (seed, edits) => {
          const log: EventLog | undefined = total(parseEventLog, mutate(seed, edits));
          if (log === undefined) return;
          const rtmrs = await replayRtmrs(log);
          assert.ok(rtmrs.every((r) => r.length === 48));
          await checkReplay(log, rtmrs);
          await bootSummary(log);
        },
      ),
      { numRuns: 200 },
    );
  });

  test("parseCcelTable only ever throws ParseError", () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (edits) => {
        total(parseCcelTable, mutate(table, edits));
      }),
      { numRuns: 2000 },
    );
  });
});
