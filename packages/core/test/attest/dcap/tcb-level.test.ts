import assert from "node:assert/strict";
import { describe, test } from "node:test";
import qvl from "@phala/dcap-qvl";
import {
  collateralFromParts,
  type DcapCollateral,
  parseCollateralBundle,
} from "../../../src/attest/dcap/collateral.js";
import {
  evaluateQeIdentity,
  parseQeIdentity,
  type QeIdentity,
} from "../../../src/attest/dcap/qe-identity.js";
import {
  parseTcbInfo,
  type TcbInfo,
  type TcbLevel,
  type TdxTcbInfo,
} from "../../../src/attest/dcap/tcb-info.js";
import {
  type Assessed,
  convergeStatus,
  evaluateSgxTcb,
  evaluateTdxTcb,
  type TcbStatus,
} from "../../../src/attest/dcap/tcb-level.js";
import { VerificationError } from "../../../src/attest/verifier.js";
import type { VectorEntry } from "../../support/testvectors.js";
import {
  evaluatedEntries,
  type QuoteFacts,
  quoteFacts,
  quotePath,
  readVector,
  verifyTime,
} from "./collateral-vectors.js";

const text = (path: string) => new TextDecoder().decode(readVector(path));

function rejects(code: string) {
  return (error: unknown) => error instanceof VerificationError && error.code === code;
}

/** The vector's collateral: its dcap-qvl JSON, or its PCS files. */
function collateralOf(entry: VectorEntry): DcapCollateral {
  if (entry.files.collateral !== undefined)
    return parseCollateralBundle(text(entry.files.collateral));
  return collateralFromParts({
    tcbInfo: readVector(entry.files.tcb_info as string),
    qeIdentity: readVector(entry.files.qe_identity as string),
    tcbSigningChain: readVector("tdx/automata-pcs-certs/Intel_SGX_TCB_Signing_2025.der"),
  });
}

function tdxInput(facts: QuoteFacts) {
  assert.ok(facts.td);
  return { ...facts.pck, ...facts.td };
}

/** Platform and module evaluation, then convergence with the QE's rating. */
function evaluate(info: TcbInfo, qe: QeIdentity, facts: QuoteFacts) {
  const qeResult = evaluateQeIdentity(qe, facts.qeReport, facts.tee);
  const tcb =
    facts.tee === "tdx" ? evaluateTdxTcb(info, tdxInput(facts)) : evaluateSgxTcb(info, facts.pck);
  return { qe: qeResult, tcb, final: convergeStatus(tcb, qeResult, tcb.module) };
}

interface Recorded {
  readonly qe: { readonly qe_tcb_status: TcbStatus; readonly isvsvn: number };
  readonly platform_tcb_level: [TcbStatus, string[] | null, string] | null;
  readonly tdx_module_identity?: [string, TcbStatus];
}

/**
 * The final verdicts the README states for these vectors (the task's list): a status and its
 * advisories, or a rejection because no TCB level matches.
 */
const FINAL: Record<string, Assessed | "no_match"> = {
  "sgx/dcap-qvl": {
    status: "ConfigurationAndSWHardeningNeeded",
    advisoryIds: ["INTEL-SA-00289", "INTEL-SA-00615"],
  },
  "sgx/automata-azure-v3": { status: "SWHardeningNeeded", advisoryIds: ["INTEL-SA-00615"] },
  "tdx/dcap-qvl-uptodate": { status: "UpToDate", advisoryIds: [] },
  "tdx/dcap-qvl-outdated": "no_match",
  "tdx/automata-gcp-v4": {
    status: "OutOfDate",
    advisoryIds: ["INTEL-SA-00960", "INTEL-SA-00982", "INTEL-SA-00986"],
  },
  "tdx/automata-alibaba-v5": { status: "UpToDate", advisoryIds: [] },
  "tdx/trustee-quote6": { status: "OutOfDate", advisoryIds: [] },
  "tdx/go-tdx-guest-spr-v4": "no_match",
  "tdx/go-tdx-guest-v5": { status: "UpToDate", advisoryIds: [] },
};

describe("TCB evaluation of the corpus, as index.json records it", () => {
  const entries = evaluatedEntries();

  test("every vector with a recorded TCB evaluation has a stated verdict", () => {
    assert.deepEqual(entries.map((e) => e.id).sort(), Object.keys(FINAL).sort());
  });

  for (const entry of entries) {
    const recorded = entry.our_check as unknown as Recorded;
    test(`${entry.id}: ${JSON.stringify(FINAL[entry.id])}`, () => {
      const collateral = collateralOf(entry);
      const info = parseTcbInfo(collateral.tcbInfo);
      const qe = parseQeIdentity(collateral.qeIdentity);
      const facts = quoteFacts(readVector(quotePath(entry)));

      const qeResult = evaluateQeIdentity(qe, facts.qeReport, facts.tee);
      assert.equal(facts.qeReport.isvSvn, recorded.qe.isvsvn);
      assert.equal(qeResult.status, recorded.qe.qe_tcb_status);
      assert.deepEqual(
        qeResult.checks.map((c) => [c.code, c.status]),
        [
          ["dcap.qe_identity.match", "pass"],
          ["dcap.qe_identity.tcb", "pass"],
        ],
      );

      const level = recorded.platform_tcb_level;
      if (level === null) {
        assert.throws(() => evaluate(info, qe, facts), rejects("dcap.tcb.no_match"));
        assert.equal(FINAL[entry.id], "no_match");
        return;
      }
      const { tcb, final } = evaluate(info, qe, facts);
      assert.deepEqual(
        [tcb.status, tcb.advisoryIds, tcb.tcbDate],
        [level[0], level[1] ?? [], level[2]],
      );
      const module = recorded.tdx_module_identity;
      assert.deepEqual(tcb.module && [tcb.module.id, tcb.module.status], module);
      assert.deepEqual(final, FINAL[entry.id]);
      assert.ok(tcb.checks.every((c) => c.status === "pass"));
      assert.ok(tcb.checks.some((c) => c.code === "dcap.tcb.level"));
    });
  }
});

describe("cross-check with @phala/dcap-qvl", () => {
  // dcap-qvl's verify() takes the collateral as an argument and never fetches: it is fed only
  // the corpus's own files, at the corpus's verification time.
  for (const entry of evaluatedEntries().filter((e) => e.files.collateral !== undefined)) {
    test(`${entry.id}: the same verdict as dcap-qvl`, () => {
      const quote = readVector(quotePath(entry));
      const json = JSON.parse(text(entry.files.collateral as string)) as Parameters<
        typeof qvl.verify
      >[1];
      const now = verifyTime(entry).getTime() / 1000;
      const collateral = collateralOf(entry);
      const facts = quoteFacts(quote);
      const info = parseTcbInfo(collateral.tcbInfo);
      const qe = parseQeIdentity(collateral.qeIdentity);
      let theirs: Assessed | "no_match";
      try {
        const report = qvl.verify(quote, json, now);
        theirs = { status: report.status as TcbStatus, advisoryIds: report.advisory_ids };
      } catch (error) {
        assert.match((error as Error).message, /No matching TCB level/);
        theirs = "no_match";
      }
      let ours: Assessed | "no_match";
      try {
        ours = evaluate(info, qe, facts).final;
      } catch (error) {
        assert.ok(rejects("dcap.tcb.no_match")(error));
        ours = "no_match";
      }
      assert.deepEqual(ours, theirs);
    });
  }
});

const zeros = (n: number) => new Uint8Array(n);
const DAY = "2024-03-13T00:00:00Z";

function level(
  sgx: number[],
  pceSvn: number,
  tdx: number[],
  status: TcbStatus,
  advisoryIds: string[] = [],
): TcbLevel {
  return {
    sgxComponents: [...sgx, ...Array(16 - sgx.length).fill(0)],
    pceSvn,
    tdxComponents: [...tdx, ...Array(16 - tdx.length).fill(0)],
    tcbDate: DAY,
    status,
    advisoryIds,
  };
}

/** A TDX TCB info shaped like Intel's: newest level first, module identities TDX_01 and TDX_03. */
function tdxInfo(changes: Partial<TdxTcbInfo> = {}): TdxTcbInfo {
  return {
    id: "TDX",
    version: 3,
    issueDate: new Date("2025-06-01T00:00:00Z"),
    nextUpdate: new Date("2025-07-01T00:00:00Z"),
    fmspc: "90c06f000000",
    pceId: "0000",
    tcbType: 0,
    tcbEvaluationDataNumber: 17,
    tcbLevels: [
      level([3, 3], 13, [0, 0, 5], "UpToDate"),
      level([3, 3], 11, [0, 0, 3], "SWHardeningNeeded", ["INTEL-SA-00615"]),
      level([2, 2], 11, [0, 0, 2], "OutOfDate", ["INTEL-SA-00960"]),
      level([1, 1], 5, [0, 0, 1], "Revoked", ["INTEL-SA-00001"]),
    ],
    tdxModule: {
      mrSigner: zeros(48),
      attributes: zeros(8),
      attributesMask: new Uint8Array(8).fill(0xff),
    },
    tdxModuleIdentities: [
      {
        id: "TDX_03",
        mrSigner: zeros(48),
        attributes: zeros(8),
        attributesMask: new Uint8Array(8).fill(0xff),
        tcbLevels: [{ isvSvn: 3, tcbDate: DAY, status: "UpToDate", advisoryIds: [] }],
      },
      {
        id: "TDX_01",
        mrSigner: zeros(48),
        attributes: zeros(8),
        attributesMask: new Uint8Array(8).fill(0xff),
        tcbLevels: [
          { isvSvn: 4, tcbDate: DAY, status: "UpToDate", advisoryIds: [] },
          {
            isvSvn: 2,
            tcbDate: "2023-08-09T00:00:00Z",
            status: "OutOfDate",
            advisoryIds: ["INTEL-SA-00982"],
          },
          { isvSvn: 1, tcbDate: "2022-01-01T00:00:00Z", status: "Revoked", advisoryIds: [] },
        ],
      },
    ],
    ...changes,
  };
}

function platform(cpu: number[], pceSvn: number, teeTcbSvn: number[]) {
  const svn = new Uint8Array(16);
  svn.set(teeTcbSvn);
  return {
    cpuSvnComponents: [...cpu, ...Array(16 - cpu.length).fill(0)],
    pceSvn,
    teeTcbSvn: svn,
    mrSignerSeam: zeros(48),
    seamAttributes: zeros(8),
  };
}

describe("evaluateTdxTcb rules", () => {
  test("the first level the platform reaches decides, in Intel's order", () => {
    const r = evaluateTdxTcb(tdxInfo(), platform([9, 9], 99, [4, 1, 9]));
    assert.equal(r.status, "UpToDate");
    assert.deepEqual(r.module && [r.module.id, r.module.status], ["TDX_01", "UpToDate"]);
  });

  test("a lower PCESVN, SGX component or TDX component moves down a level", () => {
    assert.equal(
      evaluateTdxTcb(tdxInfo(), platform([3, 3], 12, [4, 1, 5])).status,
      "SWHardeningNeeded",
    );
    assert.equal(evaluateTdxTcb(tdxInfo(), platform([3, 2], 13, [4, 1, 5])).status, "OutOfDate");
    const r = evaluateTdxTcb(tdxInfo(), platform([3, 3], 13, [4, 1, 4]));
    assert.equal(r.status, "SWHardeningNeeded");
    assert.deepEqual(r.advisoryIds, ["INTEL-SA-00615"]);
    // Every one of the 16 SGX components counts, the last too.
    const info = tdxInfo();
    const strict = tdxInfo({
      tcbLevels: info.tcbLevels.map((l) => ({
        ...l,
        sgxComponents: [...l.sgxComponents.slice(0, 15), 1],
      })),
    });
    assert.throws(
      () => evaluateTdxTcb(strict, platform([9, 9], 99, [4, 1, 9])),
      rejects("dcap.tcb.no_match"),
    );
  });

  test("below every level is a rejection, never a pass", () => {
    assert.throws(
      () => evaluateTdxTcb(tdxInfo(), platform([0, 0], 99, [4, 1, 9])),
      rejects("dcap.tcb.no_match"),
    );
    assert.throws(
      () => evaluateTdxTcb(tdxInfo(), platform([9, 9], 4, [4, 1, 9])),
      rejects("dcap.tcb.no_match"),
    );
    assert.throws(
      () => evaluateTdxTcb(tdxInfo(), platform([9, 9], 99, [4, 1, 0])),
      rejects("dcap.tcb.no_match"),
    );
  });

  test("a Revoked level or module is refused", () => {
    assert.throws(
      () => evaluateTdxTcb(tdxInfo(), platform([1, 1], 5, [4, 1, 1])),
      rejects("dcap.tcb.revoked"),
    );
    assert.throws(
      () => evaluateTdxTcb(tdxInfo(), platform([9, 9], 99, [1, 1, 9])),
      rejects("dcap.tdx_module.revoked"),
    );
  });

  test("with a module identity, TDX components 0 and 1 are the module's to rate", () => {
    const info = tdxInfo();
    const high = tdxInfo({
      tcbLevels: info.tcbLevels.map((l) => ({
        ...l,
        tdxComponents: [9, 9, ...(l.tdxComponents ?? []).slice(2)],
      })),
    });
    assert.equal(evaluateTdxTcb(high, platform([9, 9], 99, [4, 1, 5])).status, "UpToDate");
    // Without one (byte 1 = 0), all 16 are compared and tdxModule alone applies.
    assert.throws(
      () => evaluateTdxTcb(high, platform([9, 9], 99, [4, 0, 5])),
      rejects("dcap.tcb.no_match"),
    );
    const r = evaluateTdxTcb(info, platform([9, 9], 99, [4, 0, 5]));
    assert.equal(r.status, "UpToDate");
    assert.equal(r.module, undefined);
  });

  test("the module identity is TDX_ and byte 1 in two hex digits, case aside", () => {
    assert.equal(evaluateTdxTcb(tdxInfo(), platform([9, 9], 99, [3, 3, 9])).module?.id, "TDX_03");
    assert.throws(
      () => evaluateTdxTcb(tdxInfo(), platform([9, 9], 99, [3, 2, 9])),
      rejects("dcap.tdx_module.unknown"),
    );
    const base = tdxInfo();
    const hexId = tdxInfo({
      tdxModuleIdentities: [
        {
          ...(base.tdxModuleIdentities?.[0] as NonNullable<
            TdxTcbInfo["tdxModuleIdentities"]
          >[number]),
          id: "TDX_0a",
        },
      ],
    });
    assert.equal(evaluateTdxTcb(hexId, platform([9, 9], 99, [3, 10, 9])).module?.id, "TDX_0a");
    assert.throws(
      () => evaluateTdxTcb(hexId, platform([9, 9], 99, [3, 0x10, 9])),
      rejects("dcap.tdx_module.unknown"),
    );
    const none = tdxInfo();
    delete (none as { tdxModuleIdentities?: unknown }).tdxModuleIdentities;
    assert.throws(
      () => evaluateTdxTcb(none, platform([9, 9], 99, [3, 1, 9])),
      rejects("dcap.tdx_module.unknown"),
    );
  });

  test("the module's SVN is rated by the identity's levels", () => {
    const r = evaluateTdxTcb(tdxInfo(), platform([9, 9], 99, [3, 1, 9]));
    assert.deepEqual(r.module, {
      id: "TDX_01",
      status: "OutOfDate",
      advisoryIds: ["INTEL-SA-00982"],
      tcbDate: "2023-08-09T00:00:00Z",
    });
    assert.deepEqual(convergeStatus(r, { status: "UpToDate", advisoryIds: [] }, r.module), {
      status: "OutOfDate",
      advisoryIds: ["INTEL-SA-00982"],
    });
    assert.throws(
      () => evaluateTdxTcb(tdxInfo(), platform([9, 9], 99, [2, 3, 9])),
      rejects("dcap.tdx_module.no_match"),
    );
  });

  test("MRSIGNERSEAM and SEAMATTRIBUTES must match, under the mask", () => {
    const signer = { ...platform([9, 9], 99, [4, 1, 9]), mrSignerSeam: new Uint8Array(48).fill(1) };
    assert.throws(() => evaluateTdxTcb(tdxInfo(), signer), rejects("dcap.tdx_module.mismatch"));
    const attrs = platform([9, 9], 99, [4, 1, 9]);
    attrs.seamAttributes[7] = 0x80;
    assert.throws(() => evaluateTdxTcb(tdxInfo(), attrs), rejects("dcap.tdx_module.mismatch"));
    const base = tdxInfo();
    const identity = base.tdxModuleIdentities?.[1] as NonNullable<
      TdxTcbInfo["tdxModuleIdentities"]
    >[number];
    const mask = new Uint8Array(8).fill(0xff);
    mask[7] = 0x7f;
    const masked = tdxInfo({ tdxModuleIdentities: [{ ...identity, attributesMask: mask }] });
    assert.equal(evaluateTdxTcb(masked, attrs).status, "UpToDate");
  });

  test("a module identity's signer replaces the top-level tdxModule's", () => {
    const info = tdxInfo({
      tdxModule: {
        mrSigner: new Uint8Array(48).fill(7),
        attributes: zeros(8),
        attributesMask: new Uint8Array(8).fill(0xff),
      },
    });
    const r = evaluateTdxTcb(info, platform([9, 9], 99, [4, 1, 9]));
    assert.ok(
      r.checks.some((c) => c.code === "dcap.tdx_module.identity" && c.message.includes("TDX_01")),
    );
    assert.throws(
      () => evaluateTdxTcb(info, platform([9, 9], 99, [4, 0, 9])),
      rejects("dcap.tdx_module.mismatch"),
    );
  });

  test("TCB info of the other TEE and malformed input are refused", () => {
    const collateral = parseCollateralBundle(text("sgx/dcap-qvl/sgx_quote_collateral.json"));
    const sgxInfo = parseTcbInfo(collateral.tcbInfo);
    assert.throws(
      () => evaluateTdxTcb(sgxInfo, platform([9, 9], 99, [4, 1, 9])),
      rejects("dcap.tcb_info.tee"),
    );
    assert.throws(
      () => evaluateSgxTcb(tdxInfo(), { cpuSvnComponents: Array(16).fill(9), pceSvn: 99 }),
      rejects("dcap.tcb_info.tee"),
    );
    const short = { ...platform([9, 9], 99, [4, 1, 9]), cpuSvnComponents: Array(15).fill(9) };
    assert.throws(
      () => evaluateTdxTcb(tdxInfo(), short),
      (e: unknown) => (e as { code?: string }).code === "dcap.tcb.input",
    );
    const svn = { ...platform([9, 9], 99, [4, 1, 9]), teeTcbSvn: new Uint8Array(15) };
    assert.throws(
      () => evaluateTdxTcb(tdxInfo(), svn),
      (e: unknown) => (e as { code?: string }).code === "dcap.tcb.input",
    );
  });

  test("go-tdx-guest-spr-v4 matches once the TCB info's SVNs are zeroed, as the source does", () => {
    const entry = evaluatedEntries().find((e) => e.id === "tdx/go-tdx-guest-spr-v4") as VectorEntry;
    const info = parseTcbInfo(collateralOf(entry).tcbInfo) as TdxTcbInfo;
    const facts = quoteFacts(readVector(quotePath(entry)));
    const zeroed = {
      ...info,
      tcbLevels: info.tcbLevels.map((l) => ({
        ...l,
        sgxComponents: l.sgxComponents.map(() => 0),
        tdxComponents: (l.tdxComponents ?? []).map(() => 0),
        pceSvn: 0,
      })),
    };
    assert.equal(evaluateTdxTcb(zeroed, tdxInput(facts)).status, info.tcbLevels[0]?.status);
    assert.throws(() => evaluateTdxTcb(info, tdxInput(facts)), rejects("dcap.tcb.no_match"));
    // MRSIGNERSEAM or SEAMATTRIBUTES other than the TCB info's must fail (source: verify_test.go).
    const signer = { ...tdxInput(facts), mrSignerSeam: new Uint8Array(48).fill(0xab) };
    assert.throws(() => evaluateTdxTcb(zeroed, signer), rejects("dcap.tdx_module.mismatch"));
    const attrs = { ...tdxInput(facts), seamAttributes: Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0) };
    assert.throws(() => evaluateTdxTcb(zeroed, attrs), rejects("dcap.tdx_module.mismatch"));
  });
});

describe("convergeStatus (Intel QVL TcbLevelCheck.cpp / TdxModuleCheck.cpp)", () => {
  const a = (status: TcbStatus, advisoryIds: string[] = []): Assessed => ({ status, advisoryIds });
  const table: [TcbStatus, TcbStatus, TcbStatus][] = [
    // platform, QE OutOfDate -> result
    ["UpToDate", "OutOfDate", "OutOfDate"],
    ["SWHardeningNeeded", "OutOfDate", "OutOfDate"],
    ["ConfigurationNeeded", "OutOfDate", "OutOfDateConfigurationNeeded"],
    ["ConfigurationAndSWHardeningNeeded", "OutOfDate", "OutOfDateConfigurationNeeded"],
    ["OutOfDate", "OutOfDate", "OutOfDate"],
    ["OutOfDateConfigurationNeeded", "OutOfDate", "OutOfDateConfigurationNeeded"],
    ["Revoked", "OutOfDate", "Revoked"],
  ];
  for (const [platformStatus, qe, expected] of table) {
    test(`${platformStatus} with an out-of-date QE or module is ${expected}`, () => {
      assert.equal(convergeStatus(a(platformStatus), a(qe)).status, expected);
      assert.equal(convergeStatus(a(platformStatus), a("UpToDate"), a(qe)).status, expected);
      assert.equal(convergeStatus(a(platformStatus), a("UpToDate")).status, platformStatus);
      assert.equal(convergeStatus(a(platformStatus), a("Revoked")).status, "Revoked");
      assert.equal(
        convergeStatus(a(platformStatus), a("UpToDate"), a("Revoked")).status,
        "Revoked",
      );
    });
  }

  test("any QE rating other than UpToDate and Revoked counts as OutOfDate", () => {
    assert.equal(convergeStatus(a("UpToDate"), a("SWHardeningNeeded")).status, "OutOfDate");
  });

  test("advisories are the union, platform then module then QE, without repeats", () => {
    const r = convergeStatus(
      a("SWHardeningNeeded", ["SA-1", "SA-2"]),
      a("OutOfDate", ["SA-2", "SA-4"]),
      a("UpToDate", ["SA-3", "SA-1"]),
    );
    assert.deepEqual(r, { status: "OutOfDate", advisoryIds: ["SA-1", "SA-2", "SA-3", "SA-4"] });
  });
});

describe("evaluateQeIdentity", () => {
  const entry = evaluatedEntries().find((e) => e.id === "sgx/automata-azure-v3") as VectorEntry;
  const collateral = collateralOf(entry);
  const qe = parseQeIdentity(collateral.qeIdentity);
  const facts = quoteFacts(readVector(quotePath(entry)));
  const report = facts.qeReport;

  test("the QE's ISVSVN picks the first level it reaches", () => {
    assert.equal(report.isvSvn, 9);
    assert.equal(evaluateQeIdentity(qe, report, "sgx").status, "UpToDate");
    const old = evaluateQeIdentity(qe, { ...report, isvSvn: 7 }, "sgx");
    assert.deepEqual(
      [old.status, old.advisoryIds, old.tcbDate],
      ["OutOfDate", ["INTEL-SA-00615"], "2021-11-10T00:00:00Z"],
    );
    assert.throws(
      () => evaluateQeIdentity(qe, { ...report, isvSvn: 0 }, "sgx"),
      rejects("dcap.qe_identity.no_match"),
    );
  });

  test("an out-of-date QE lowers the platform's status (azure: SWHardeningNeeded -> OutOfDate)", () => {
    const tcb = evaluateSgxTcb(parseTcbInfo(collateral.tcbInfo), facts.pck);
    const old = evaluateQeIdentity(qe, { ...report, isvSvn: 7 }, "sgx");
    assert.deepEqual(convergeStatus(tcb, old), {
      status: "OutOfDate",
      advisoryIds: ["INTEL-SA-00615"],
    });
  });

  test("each identity field must match; the message names it", () => {
    const cases: [string, Partial<typeof report>][] = [
      ["MRSIGNER", { mrSigner: report.mrSigner.map((b, i) => (i === 31 ? b ^ 1 : b)) }],
      ["ISVPRODID", { isvProdId: 2 }],
      ["MISCSELECT", { miscSelect: 1 }],
      ["ATTRIBUTES", { attributes: report.attributes.map((b, i) => (i === 0 ? b ^ 0x01 : b)) }],
      ["ATTRIBUTES", { attributes: report.attributes.subarray(0, 15) }],
    ];
    for (const [field, change] of cases) {
      assert.throws(
        () => evaluateQeIdentity(qe, { ...report, ...change }, "sgx"),
        (e: unknown) =>
          rejects("dcap.qe_identity.mismatch")(e) && (e as Error).message.includes(field),
      );
    }
    // Bit 2 of ATTRIBUTES byte 0 is outside Intel's mask (FB…): it may differ.
    const masked = {
      ...report,
      attributes: report.attributes.map((b, i) => (i === 0 ? b ^ 0x04 : b)),
    };
    assert.equal(evaluateQeIdentity(qe, masked, "sgx").status, "UpToDate");
    // Bits of XFRM (bytes 8..15) are outside the mask too.
    const xfrm = {
      ...report,
      attributes: report.attributes.map((b, i) => (i === 9 ? b ^ 0xff : b)),
    };
    assert.equal(evaluateQeIdentity(qe, xfrm, "sgx").status, "UpToDate");
  });

  test("the identity must be the one for the quote's TEE", () => {
    assert.throws(() => evaluateQeIdentity(qe, report, "tdx"), rejects("dcap.qe_identity.tee"));
  });

  test("a Revoked QE is refused", () => {
    const revoked = {
      ...qe,
      tcbLevels: [{ isvSvn: 1, tcbDate: DAY, status: "Revoked" as const, advisoryIds: [] }],
    };
    assert.throws(
      () => evaluateQeIdentity(revoked, report, "sgx"),
      rejects("dcap.qe_identity.revoked"),
    );
  });
});
