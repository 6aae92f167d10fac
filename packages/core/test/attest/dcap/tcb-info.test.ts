import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { describe, test } from "node:test";
import {
  collateralFromParts,
  type DcapCollateral,
  parseCollateralBundle,
  type SignedJson,
} from "../../../src/attest/dcap/collateral.js";
import { parseQeIdentity, qeIdentityValidity } from "../../../src/attest/dcap/qe-identity.js";
import {
  parseTcbInfo,
  tcbInfoMatchesPck,
  tcbInfoValidity,
  verifySignedJson,
} from "../../../src/attest/dcap/tcb-info.js";
import { VerificationError } from "../../../src/attest/verifier.js";
import { ParseError } from "../../../src/errors.js";
import { VECTOR_INDEX, type VectorEntry } from "../../support/testvectors.js";
import {
  certificateKey,
  dcapVectorFiles,
  quoteFacts,
  quotePath,
  readVector,
  verifyTime,
} from "./collateral-vectors.js";

const text = (path: string) => new TextDecoder().decode(readVector(path));
const utf8 = (s: string) => new TextEncoder().encode(s);

const TCB_SIGNER_2025 = "tdx/automata-pcs-certs/Intel_SGX_TCB_Signing_2025.der";
const TCB_CHAIN_GO_TDX = "tdx/go-tdx-guest-spr-v4/tcb_info_issuer_chain.pem";

/** Every signed Intel document in testvectors/{tdx,sgx}, found by content, not by name. */
interface Document {
  readonly path: string;
  readonly kind: "tcbInfo" | "enclaveIdentity";
  readonly signed: SignedJson;
  /** dcap-qvl files carry their own TCB signing chain. */
  readonly chain?: string;
}

function documents(): Document[] {
  const out: Document[] = [];
  for (const path of dcapVectorFiles()) {
    const raw = text(path);
    if (raw.startsWith('{"tcbInfo"') || raw.startsWith('{"enclaveIdentity"')) {
      const kind = raw.startsWith('{"tcbInfo"') ? "tcbInfo" : "enclaveIdentity";
      const collateral = collateralFromParts(
        {
          ...(kind === "tcbInfo" ? { tcbInfo: raw } : { qeIdentity: raw }),
          tcbSigningChain: readVector(TCB_SIGNER_2025),
        },
        placeholder(),
      );
      out.push({
        path,
        kind,
        signed: kind === "tcbInfo" ? collateral.tcbInfo : collateral.qeIdentity,
      });
    } else if (raw.includes('"tcb_info"')) {
      const collateral = parseCollateralBundle(raw);
      out.push({
        path,
        kind: "tcbInfo",
        signed: collateral.tcbInfo,
        chain: collateral.tcbSigningChain,
      });
      out.push({
        path,
        kind: "enclaveIdentity",
        signed: collateral.qeIdentity,
        chain: collateral.tcbSigningChain,
      });
    }
  }
  return out;
}

/** A base to merge one document into: collateralFromParts needs all three members. */
function placeholder(): DcapCollateral {
  return parseCollateralBundle(text("tdx/dcap-qvl-uptodate/tdx_quote_collateral.json"));
}

const DOCUMENTS = documents();

/** A SignedJson holding arbitrary JSON, for parse tests (nothing verifies its signature). */
function unsigned(json: unknown): SignedJson {
  const value = typeof json === "string" ? json : JSON.stringify(json);
  return { text: "", signedBytes: utf8(value), signature: new Uint8Array(64) };
}

function malformed(code: string, field: RegExp) {
  return (error: unknown) =>
    error instanceof ParseError && error.code === code && field.test(error.field);
}

function signatureError(code: string) {
  return (error: unknown) => error instanceof VerificationError && error.code === code;
}

describe("every Intel document in the corpus", () => {
  test("is found: 9 TCB infos and 7 QE identities", () => {
    assert.equal(DOCUMENTS.filter((d) => d.kind === "tcbInfo").length, 9);
    assert.equal(DOCUMENTS.filter((d) => d.kind === "enclaveIdentity").length, 7);
  });

  test("the TCB signing chains of the corpus share one key (Intel re-issued the certificate)", () => {
    const spki = (input: string | Uint8Array) =>
      new X509Certificate(input).publicKey.export({ type: "spki", format: "der" }).toString("hex");
    const keys = new Set([
      spki(readVector(TCB_SIGNER_2025)),
      spki(text(TCB_CHAIN_GO_TDX)),
      ...DOCUMENTS.filter((d) => d.chain).map((d) => spki(d.chain as string)),
    ]);
    assert.equal(keys.size, 1);
  });

  for (const doc of DOCUMENTS) {
    const what = doc.kind === "tcbInfo" ? "tcb_info" : "qe_identity";
    test(`${doc.path} (${doc.kind}) parses and its signature verifies`, async () => {
      const parsed =
        doc.kind === "tcbInfo" ? parseTcbInfo(doc.signed) : parseQeIdentity(doc.signed);
      assert.ok(parsed.tcbLevels.length > 0);
      for (const chain of [doc.chain ?? text(TCB_CHAIN_GO_TDX), readVector(TCB_SIGNER_2025)]) {
        await verifySignedJson(doc.signed, await certificateKey(chain), what);
      }
    });

    test(`${doc.path} (${doc.kind}): one flipped byte or one extra space fails the signature`, async () => {
      const key = await certificateKey(readVector(TCB_SIGNER_2025));
      const at = Math.floor(doc.signed.signedBytes.length / 2);
      const flipped = doc.signed.signedBytes.slice();
      flipped[at] = (flipped[at] as number) ^ 0x01;
      await assert.rejects(
        verifySignedJson({ ...doc.signed, signedBytes: flipped }, key, what),
        signatureError(`dcap.${what}.signature`),
      );
      const json = new TextDecoder().decode(doc.signed.signedBytes);
      const spaced = utf8(json.replace(/^\{"/, '{ "'));
      await assert.rejects(
        verifySignedJson({ ...doc.signed, signedBytes: spaced }, key, what),
        signatureError(`dcap.${what}.signature`),
      );
      const signature = doc.signed.signature.slice();
      signature[5] = (signature[5] as number) ^ 0x80;
      await assert.rejects(
        verifySignedJson({ ...doc.signed, signature }, key, what),
        signatureError(`dcap.${what}.signature`),
      );
    });
  }

  test("whitespace changes outside the signed value keep the signature valid", async () => {
    const doc = DOCUMENTS.find((d) => d.path === "tdx/trustee/tcbInfo.json") as Document;
    const key = await certificateKey(readVector(TCB_SIGNER_2025));
    const raw = text(doc.path);
    const reformatted = raw
      .replace('{"tcbInfo":', '{\n  "tcbInfo" : ')
      .replace(',"signature":', ',\n  "signature": ');
    const outside = collateralFromParts({ tcbInfo: reformatted }, placeholder()).tcbInfo;
    await verifySignedJson(outside, key, "tcb_info");
    const inside = collateralFromParts(
      { tcbInfo: raw.replace('"version":3', '"version" :3') },
      placeholder(),
    ).tcbInfo;
    await assert.rejects(
      verifySignedJson(inside, key, "tcb_info"),
      signatureError("dcap.tcb_info.signature"),
    );
  });

  test("another key does not verify Intel's signature", async () => {
    const { publicKey } = await crypto.subtle.generateKey(
      { name: "ECDSA", namedCurve: "P-256" },
      false,
      ["sign", "verify"],
    );
    await assert.rejects(
      verifySignedJson((DOCUMENTS[0] as Document).signed, publicKey, "tcb_info"),
      signatureError("dcap.tcb_info.signature"),
    );
  });
});

/** The index entries that ship collateral, with their TCB info and QE identity. */
function collateralOf(
  entry: VectorEntry,
): { tcbInfo: SignedJson; qeIdentity: SignedJson } | undefined {
  if (entry.files.collateral !== undefined)
    return parseCollateralBundle(text(entry.files.collateral));
  if (entry.files.tcb_info === undefined || entry.files.qe_identity === undefined) return undefined;
  return collateralFromParts(
    { tcbInfo: readVector(entry.files.tcb_info), qeIdentity: readVector(entry.files.qe_identity) },
    placeholder(),
  );
}

const WITH_COLLATERAL = VECTOR_INDEX.filter(
  (e) => (e.tee === "tdx" || e.tee === "sgx") && collateralOf(e),
);

describe("TCB info against the index", () => {
  test("nine index entries ship TCB info and QE identity", () => {
    assert.equal(WITH_COLLATERAL.length, 9);
  });

  for (const entry of WITH_COLLATERAL) {
    const check = entry.our_check as { fmspc: string };
    test(`${entry.id}: TCB info for FMSPC ${check.fmspc}, of the quote's TEE and PCK`, () => {
      const collateral = collateralOf(entry) as { tcbInfo: SignedJson; qeIdentity: SignedJson };
      const info = parseTcbInfo(collateral.tcbInfo);
      assert.equal(info.fmspc, check.fmspc);
      assert.equal(info.id, entry.tee === "tdx" ? "TDX" : "SGX");
      assert.equal(info.version, 3);
      assert.equal(info.pceId, "0000");
      assert.ok(info.tcbEvaluationDataNumber >= 15);
      for (const level of info.tcbLevels) {
        assert.equal(level.sgxComponents.length, 16);
        assert.equal(level.tdxComponents?.length, info.id === "TDX" ? 16 : undefined);
      }
      const qe = parseQeIdentity(collateral.qeIdentity);
      assert.equal(qe.id, entry.tee === "tdx" ? "TD_QE" : "QE");

      const facts = quoteFacts(readVector(quotePath(entry)));
      const checks = tcbInfoMatchesPck(info, facts.pck);
      assert.deepEqual(
        checks.map((c) => c.status),
        ["pass"],
      );
      // The certificate spells the FMSPC in lower case, the TCB info often in upper case.
      tcbInfoMatchesPck(info, { ...facts.pck, fmspc: facts.pck.fmspc.toUpperCase() });
      assert.throws(
        () => tcbInfoMatchesPck(info, { ...facts.pck, fmspc: "00906ed50000" }),
        signatureError("dcap.tcb_info.fmspc"),
      );
      assert.throws(
        () => tcbInfoMatchesPck(info, { ...facts.pck, pceId: "0100" }),
        signatureError("dcap.tcb_info.pce_id"),
      );
    });

    test(`${entry.id}: validity at the vector's time, and expiry around it`, () => {
      const collateral = collateralOf(entry) as { tcbInfo: SignedJson; qeIdentity: SignedJson };
      const info = parseTcbInfo(collateral.tcbInfo);
      const qe = parseQeIdentity(collateral.qeIdentity);
      const now = verifyTime(entry);
      assert.equal(tcbInfoValidity(info, now).status, "pass");
      // go-tdx-guest-v5 pairs 2026 TCB info with the 2023 QE identity: no time suits both.
      const qeCurrent = entry.id !== "tdx/go-tdx-guest-v5";
      const qeCheck = qeIdentityValidity(qe, now);
      assert.equal(qeCheck.status, qeCurrent ? "pass" : "fail");
      assert.equal(
        qeCheck.code,
        qeCurrent ? "dcap.qe_identity.current" : "dcap.qe_identity.expired",
      );

      const after = new Date(info.nextUpdate.getTime() + 1000);
      const expired = tcbInfoValidity(info, after);
      assert.equal(expired.status, "fail");
      assert.equal(expired.code, "dcap.tcb_info.expired");
      assert.ok(expired.message.includes(info.nextUpdate.toISOString()));
      assert.equal(tcbInfoValidity(info, info.nextUpdate).status, "pass");
      assert.equal(
        tcbInfoValidity(info, new Date(info.issueDate.getTime() - 1000)).code,
        "dcap.tcb_info.expired",
      );
      assert.equal(
        qeIdentityValidity(qe, new Date(qe.nextUpdate.getTime() + 1000)).code,
        "dcap.qe_identity.expired",
      );
    });
  }

  test('go-tdx-guest-spr-v4: the source\'s "tcbInfo has expired" time fails', () => {
    const entry = WITH_COLLATERAL.find((e) => e.id === "tdx/go-tdx-guest-spr-v4") as VectorEntry;
    const info = parseTcbInfo((collateralOf(entry) as { tcbInfo: SignedJson }).tcbInfo);
    assert.equal(
      tcbInfoValidity(info, new Date("2053-07-01T01:00:00Z")).code,
      "dcap.tcb_info.expired",
    );
    assert.equal(
      tcbInfoValidity(info, new Date("2023-07-01T01:00:00Z")).code,
      "dcap.tcb_info.current",
    );
  });
});

/** A TCB info value as JSON, loosely typed: the tests below mutate it into bad shapes. */
interface RawTcbInfo {
  [member: string]: unknown;
  tcbLevels: {
    tcb: {
      sgxtcbcomponents: { svn: number }[];
      tdxtcbcomponents: { svn: number }[];
      pcesvn: number;
    };
    tcbDate: string;
    tcbStatus: string;
    advisoryIDs?: unknown;
  }[];
  tdxModuleIdentities?: { tcbLevels: unknown[] }[];
}

/** The trustee TDX TCB info's value, to mutate. */
function tdxInfo(): RawTcbInfo {
  return (JSON.parse(text("tdx/trustee/tcbInfo.json")) as { tcbInfo: RawTcbInfo }).tcbInfo;
}

function sgxInfo(): RawTcbInfo {
  const path = "sgx/automata-azure-v3/sgx_tcbinfov3_00606a000000.json";
  return (JSON.parse(text(path)) as { tcbInfo: RawTcbInfo }).tcbInfo;
}

describe("parseTcbInfo", () => {
  const TCB = "dcap.tcb_info.malformed";

  test("reads the TDX module identities", () => {
    const info = parseTcbInfo(unsigned(tdxInfo()));
    assert.equal(info.id, "TDX");
    if (info.id !== "TDX") return;
    assert.deepEqual(
      info.tdxModuleIdentities?.map((m) => m.id),
      ["TDX_03", "TDX_01"],
    );
    assert.deepEqual(
      info.tdxModuleIdentities?.[1]?.tcbLevels.map((l) => [l.isvSvn, l.status]),
      [
        [4, "UpToDate"],
        [2, "OutOfDate"],
      ],
    );
    assert.equal(info.tdxModule.mrSigner.length, 48);
    assert.equal(info.fmspc, "00a06d080000");
  });

  test("reads the version 2 (SGX) layout", () => {
    const v3 = sgxInfo();
    const v2 = {
      version: 2,
      issueDate: v3.issueDate,
      nextUpdate: v3.nextUpdate,
      fmspc: v3.fmspc,
      pceId: v3.pceId,
      tcbType: 0,
      tcbEvaluationDataNumber: 17,
      tcbLevels: v3.tcbLevels.map((level) => ({
        tcb: {
          ...Object.fromEntries(
            level.tcb.sgxtcbcomponents.map((c, i) => [
              `sgxtcbcomp${String(i + 1).padStart(2, "0")}svn`,
              c.svn,
            ]),
          ),
          pcesvn: level.tcb.pcesvn,
        },
        tcbDate: level.tcbDate,
        tcbStatus: level.tcbStatus,
      })),
    };
    const fromV2 = parseTcbInfo(unsigned(v2));
    const fromV3 = parseTcbInfo(unsigned(v3));
    assert.equal(fromV2.id, "SGX");
    assert.deepEqual(
      fromV2.tcbLevels.map((l) => [l.sgxComponents, l.pceSvn, l.status]),
      fromV3.tcbLevels.map((l) => [l.sgxComponents, l.pceSvn, l.status]),
    );
  });

  const cases: [string, (info: ReturnType<typeof tdxInfo>) => unknown, RegExp][] = [
    [
      "15 SGX components",
      (i) => i.tcbLevels[0]?.tcb.sgxtcbcomponents.pop(),
      /^tcbInfo\.tcbLevels\[0\]\.tcb\.sgxtcbcomponents$/,
    ],
    [
      "17 TDX components",
      (i) => i.tcbLevels[1]?.tcb.tdxtcbcomponents.push({ svn: 0 }),
      /^tcbInfo\.tcbLevels\[1\]\.tcb\.tdxtcbcomponents$/,
    ],
    [
      "an SVN above 255",
      (i) => {
        (i.tcbLevels[0]?.tcb.sgxtcbcomponents[3] ?? { svn: 0 }).svn = 256;
      },
      /sgxtcbcomponents\[3\]\.svn$/,
    ],
    [
      "an unknown status",
      (i) => {
        (i.tcbLevels[1] ?? { tcbStatus: "" }).tcbStatus = "Fine";
      },
      /^tcbInfo\.tcbLevels\[1\]\.tcbStatus$/,
    ],
    [
      "a 5-byte FMSPC",
      (i) => {
        i.fmspc = "00A06D0800";
      },
      /^tcbInfo\.fmspc$/,
    ],
    [
      "version 4",
      (i) => {
        i.version = 4;
      },
      /^tcbInfo\.version$/,
    ],
    [
      "an unknown id",
      (i) => {
        i.id = "SEV";
      },
      /^tcbInfo\.id$/,
    ],
    [
      "tcbType 1",
      (i) => {
        i.tcbType = 1;
      },
      /^tcbInfo\.tcbType$/,
    ],
    [
      "no TCB levels",
      (i) => {
        i.tcbLevels = [];
      },
      /^tcbInfo\.tcbLevels$/,
    ],
    [
      "no tdxModule",
      (i) => {
        delete i.tdxModule;
      },
      /^tcbInfo\.tdxModule$/,
    ],
    [
      "a local time",
      (i) => {
        i.nextUpdate = "2025-11-26T13:07:17";
      },
      /^tcbInfo\.nextUpdate$/,
    ],
    [
      "advisory IDs that are not strings",
      (i) => {
        (i.tcbLevels[1] ?? { advisoryIDs: [] }).advisoryIDs = [615];
      },
      /^tcbInfo\.tcbLevels\[1\]\.advisoryIDs$/,
    ],
    [
      "a module identity without levels",
      (i) => {
        (i.tdxModuleIdentities?.[0] ?? { tcbLevels: [] }).tcbLevels = [];
      },
      /^tcbInfo\.tdxModuleIdentities\[0\]\.tcbLevels$/,
    ],
  ];
  for (const [name, mutate, field] of cases) {
    test(`refuses ${name}`, () => {
      const info = tdxInfo();
      mutate(info);
      assert.throws(() => parseTcbInfo(unsigned(info)), malformed(TCB, field));
    });
  }

  test("refuses text that is not a JSON object", () => {
    assert.throws(() => parseTcbInfo(unsigned("[1]")), malformed(TCB, /^tcbInfo$/));
    assert.throws(
      () => parseTcbInfo({ ...unsigned("{}"), signedBytes: new Uint8Array([0xc3]) }),
      malformed(TCB, /^tcbInfo$/),
    );
  });
});

describe("parseQeIdentity", () => {
  const QE = "dcap.qe_identity.malformed";
  const identity = () =>
    (
      JSON.parse(text("sgx/automata-azure-v3/sgx_qeidentity_v4.json")) as {
        enclaveIdentity: Record<string, unknown>;
      }
    ).enclaveIdentity;

  test("reads masks, MISCSELECT as the report's little-endian value, and the levels", () => {
    const qe = parseQeIdentity(
      unsigned({ ...identity(), miscselect: "01000000", miscselectMask: "FFFFFFFE" }),
    );
    assert.equal(qe.miscSelect, 1);
    assert.equal(qe.miscSelectMask, 0xfeffffff);
    assert.equal(
      Buffer.from(qe.mrSigner).toString("hex"),
      "8c4f5775d796503e96137f77c68a829a0056ac8ded70140b081b094490c57bff",
    );
    assert.equal(qe.isvProdId, 1);
    assert.deepEqual(
      qe.tcbLevels.map((l) => l.isvSvn),
      [8, 6, 5, 4, 2, 1],
    );
    assert.deepEqual(qe.tcbLevels[1]?.advisoryIds, ["INTEL-SA-00615"]);
  });

  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["an unknown id", { id: "XE" }, /^enclaveIdentity\.id$/],
    ["version 1", { version: 1 }, /^enclaveIdentity\.version$/],
    ["15-byte attributes", { attributes: "11".padEnd(30, "0") }, /^enclaveIdentity\.attributes$/],
    ["a 31-byte MRSIGNER", { mrsigner: "8C".repeat(31) }, /^enclaveIdentity\.mrsigner$/],
    ["no TCB levels", { tcbLevels: [] }, /^enclaveIdentity\.tcbLevels$/],
    [
      "a level without isvsvn",
      { tcbLevels: [{ tcb: {}, tcbDate: "2024-03-13T00:00:00Z", tcbStatus: "UpToDate" }] },
      /^enclaveIdentity\.tcbLevels\[0\]\.tcb\.isvsvn$/,
    ],
    ["a missing ISVPRODID", { isvprodid: undefined }, /^enclaveIdentity\.isvprodid$/],
  ];
  for (const [name, change, field] of cases) {
    test(`refuses ${name}`, () => {
      assert.throws(
        () => parseQeIdentity(unsigned({ ...identity(), ...change })),
        malformed(QE, field),
      );
    });
  }
});
