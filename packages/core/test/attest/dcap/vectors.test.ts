import assert from "node:assert/strict";
import { createHash, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, test } from "node:test";
import {
  attest,
  type Check,
  type Collateral,
  type CollateralParts,
  collateralFromParts,
  type DcapTcbClaim,
  type Evidence,
  encodeCollateralBundle,
  type Policy,
  parseCollateralBundle,
  parseQuote,
  type SgxPlatformClaims,
  type TcbStatus,
  type TdxPlatformClaims,
  toHex,
  verifyEvidence,
} from "@cloister/core";
import { evaluateQeIdentity, parseQeIdentity } from "../../../src/attest/dcap/qe-identity.js";
import { parseTcbInfo } from "../../../src/attest/dcap/tcb-info.js";
import { convergeStatus, evaluateTdxTcb } from "../../../src/attest/dcap/tcb-level.js";
import { TESTVECTORS, VECTOR_INDEX, type VectorEntry } from "../../support/testvectors.js";

/**
 * Every Intel TDX and SGX vector in testvectors/index.json, verified end to end through the public
 * API at the time its entry names: the quote chains to the pinned Intel root, the claims equal
 * the fields the index records, the collateral the entry ships (assembled from its files) rates
 * the TCB as the index and README sections 3 and 4 record, and a policy allowing that rating and
 * pinning the vector's own measurement gives the verdict the rating deserves. Where the vector's
 * collateral can be put in @phala/dcap-qvl's QuoteCollateralV3 shape, dcap-qvl's verify() is run
 * on the same bytes, at the same time, with local collateral only, as an independent oracle.
 */

const read = (path: string) => new Uint8Array(readFileSync(`${TESTVECTORS}${path}`));
const text = (path: string) => readFileSync(`${TESTVECTORS}${path}`, "utf8");

const DCAP = VECTOR_INDEX.filter((e) => e.tee === "tdx" || e.tee === "sgx");
const SECOND = 1000;
const DAY = 86_400 * SECOND;

/** The Intel PCS certificates automata-dcap-attestation ships (README section 1). */
const PCS_CERTS = {
  tcbSigning: "Intel_SGX_TCB_Signing_2025.der",
  rootCrl: "Intel_SGX_Root_CA_crl_2025-03.der",
  platformCa: "Intel_SGX_PCK_Platform_CA.der",
};
const ROOT_PEM = "tdx/intel-root/Intel_SGX_Root_CA.pem";

// ---- what an entry names ----------------------------------------------------------------

const QUOTE_ROLES = ["quote", "quote (derived)", "td_quote"];

function quotePath(entry: VectorEntry): string {
  const role = QUOTE_ROLES.find((r) => entry.files[r] !== undefined);
  assert.ok(role, `${entry.id} names no quote file`);
  return entry.files[role] as string;
}

function evidenceOf(entry: VectorEntry, data = read(quotePath(entry))): Evidence {
  return entry.tee === "tdx"
    ? { platform: "tdx", format: "tdx-quote", data }
    : { platform: "sgx", format: "sgx-quote", data };
}

const ISO = String.raw`\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}Z)?`;
/** A date alone is its midnight UTC. */
const instant = (iso: string) => new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso);

/**
 * The time to verify at, from the entry's verify_at prose: the time it opens with, when it opens
 * with one ("2025-07-19T10:00:34Z (source …)"); otherwise the middle of every "A..B" window it
 * names, intersected ("PCK notBefore … and collateral window A..B: use a time in C..D").
 */
function verifyTime(entry: VectorEntry): Date {
  const leading = new RegExp(`^(${ISO})`).exec(entry.verify_at)?.[1];
  if (leading?.includes("T")) return instant(leading);
  const windows = [...entry.verify_at.matchAll(new RegExp(`(${ISO})\\.\\.(${ISO})`, "g"))].map(
    (m) => [instant(m[1] as string).getTime(), instant(m[2] as string).getTime()] as const,
  );
  assert.ok(windows.length > 0, `${entry.id}: no time in ${JSON.stringify(entry.verify_at)}`);
  const from = Math.max(...windows.map(([a]) => a));
  const to = Math.min(...windows.map(([, b]) => b));
  assert.ok(from < to, `${entry.id}: the windows in verify_at do not overlap`);
  return new Date(Math.floor((from + to) / 2 / SECOND) * SECOND);
}

/** Times the verify_at prose says verification "must fail" at. */
function mustFailTimes(entry: VectorEntry): Date[] {
  return [...entry.verify_at.matchAll(new RegExp(`(${ISO}) must fail`, "g"))].map((m) =>
    instant(m[1] as string),
  );
}

interface OurCheck {
  readonly fmspc?: string;
  readonly collateral_window?: readonly [string, string];
  readonly qe?: { readonly qe_tcb_status: TcbStatus; readonly isvsvn: number };
  readonly tdx_module_identity?: readonly [string, TcbStatus];
  /** [status, advisory IDs or null, tcbDate], or null: no level matches. */
  readonly platform_tcb_level?: readonly [TcbStatus, readonly string[] | null, string] | null;
}

const ourCheck = (entry: VectorEntry) => (entry.our_check ?? {}) as OurCheck;
/** "2025-06-19 10:32:27+00:00" as the index writes window ends. */
const windowTime = (value: string) => new Date(value.replace(" ", "T").replace("+00:00", "Z"));

/**
 * The collateral the entry ships, as one dcap_collateral text: dcap-qvl's QuoteCollateralV3
 * JSON as it is, or a Cloister bundle assembled from the individual PCS files the entry names.
 * Intel's TCB Signing certificate, Root CA CRL and PCK Platform CA come from the entry's own
 * chain file when it has one, else from the automata PCS certificates the entry points to.
 */
function collateralText(entry: VectorEntry, tcbSigning?: Uint8Array | string): string | undefined {
  const files = entry.files;
  if (files.collateral !== undefined) return text(files.collateral);
  if (files.tcb_info === undefined) return undefined;
  assert.ok(files.qe_identity, `${entry.id} has a TCB info but no QE identity`);
  const pcs = files.pcs_certs ?? "tdx/automata-pcs-certs/";
  const signing =
    tcbSigning ??
    (files.tcb_info_chain !== undefined
      ? text(files.tcb_info_chain)
      : read(files.tcb_signing ?? `${pcs}${PCS_CERTS.tcbSigning}`));
  const rootCrl =
    files.root_crl ??
    (files.pcs_certs === undefined ? undefined : `${files.pcs_certs}${PCS_CERTS.rootCrl}`);
  const issuer =
    files.pck_crl_chain ??
    (files.pcs_certs === undefined ? undefined : `${files.pcs_certs}${PCS_CERTS.platformCa}`);
  const parts: CollateralParts = {
    tcbInfo: read(files.tcb_info),
    qeIdentity: read(files.qe_identity),
    tcbSigningChain: signing,
    ...(files.pck_crl === undefined ? {} : { pckCrl: read(files.pck_crl) }),
    ...(rootCrl === undefined ? {} : { rootCrl: read(rootCrl) }),
    ...(issuer === undefined ? {} : { pckCrlIssuerChain: read(issuer) }),
  };
  return encodeCollateralBundle(collateralFromParts(parts));
}

/** The entry's DCAP collateral and CCEL, keyed as DCAP_COLLATERAL names them. */
function collateralOf(entry: VectorEntry, withBundle = true): Collateral {
  const bundle = withBundle ? collateralText(entry) : undefined;
  const ccelData = entry.files.ccel_data ?? entry.files.ccel;
  return {
    ...(bundle === undefined ? {} : { dcap_collateral: bundle }),
    ...(entry.files.ccel_table === undefined ? {} : { ccel_table: read(entry.files.ccel_table) }),
    ...(ccelData === undefined ? {} : { ccel_data: read(ccelData) }),
  };
}

// ---- what the index expects ---------------------------------------------------------------

type Expectation =
  | {
      readonly kind: "rated";
      readonly status: TcbStatus;
      readonly advisoryIds: readonly string[];
      readonly tcbDate: string;
      readonly qeStatus: TcbStatus;
      readonly module?: readonly [string, TcbStatus];
    }
  | { readonly kind: "no_match" }
  | { readonly kind: "no_consistent_time" }
  | { readonly kind: "no_collateral" };

/** What index.json records for the entry, read from its files, expected text and our_check. */
function expectationOf(entry: VectorEntry): Expectation {
  if (collateralText(entry) === undefined) return { kind: "no_collateral" };
  if (/no single time/.test(entry.expected)) return { kind: "no_consistent_time" };
  const check = ourCheck(entry);
  const level = check.platform_tcb_level;
  if (level === null) {
    assert.match(entry.expected, /no (tcb level|tcbLevel|level) match|no matching TCB level/i);
    return { kind: "no_match" };
  }
  assert.ok(level && check.qe, `${entry.id}: our_check records no TCB evaluation`);
  const [status, advisories, tcbDate] = level;
  // The prose verdict names the same status the evaluation records.
  assert.ok(entry.expected.includes(status), `${entry.id}: ${entry.expected} vs ${status}`);
  return {
    kind: "rated",
    status,
    advisoryIds: [...(advisories ?? [])].sort(),
    tcbDate,
    qeStatus: check.qe.qe_tcb_status,
    ...(check.tdx_module_identity === undefined ? {} : { module: check.tdx_module_identity }),
  };
}

/**
 * The verdicts README sections 3 and 4 state, written out so that a change to index.json that
 * contradicts them fails here rather than silently changing what is asserted.
 */
const STATED: Readonly<Record<string, string>> = {
  "tdx/dcap-qvl-uptodate": "UpToDate []",
  "tdx/automata-alibaba-v5": "UpToDate []",
  "tdx/automata-gcp-v4": "OutOfDate [INTEL-SA-00960,INTEL-SA-00982,INTEL-SA-00986]",
  "sgx/dcap-qvl": "ConfigurationAndSWHardeningNeeded [INTEL-SA-00289,INTEL-SA-00615]",
  "sgx/automata-azure-v3": "SWHardeningNeeded [INTEL-SA-00615]",
  "tdx/trustee-quote6": "OutOfDate [] module TDX_03 UpToDate",
  "tdx/dcap-qvl-outdated": "no_match",
  "tdx/go-tdx-guest-spr-v4": "no_match",
  "tdx/go-tdx-guest-v5": "no_consistent_time",
  "tdx/go-tdx-guest-gcp-ccel": "no_collateral",
  "tdx/trustee-quote4": "no_collateral",
  "tdx/trustee-quote5": "no_collateral",
  "tdx/oak-tdx": "no_collateral",
  "tdx/azure-vtpm-tdx": "no_collateral",
  "sgx/trustee-occlum": "no_collateral",
};

function stated(expectation: Expectation): string {
  if (expectation.kind !== "rated") return expectation.kind;
  const module =
    expectation.module !== undefined && expectation.module[0] !== "TDX_01"
      ? ` module ${expectation.module.join(" ")}`
      : "";
  return `${expectation.status} [${expectation.advisoryIds.join(",")}]${module}`;
}

// ---- reading results ------------------------------------------------------------------------

const failed = (checks: readonly Check[]) => checks.filter((c) => c.status === "fail");
const codes = (checks: readonly Check[]) => checks.map((c) => c.code);
const tdxClaims = (claims: { platformClaims: unknown }) =>
  claims.platformClaims as TdxPlatformClaims;

/** The one failure verification stopped at, or the failed checks it finished with. */
async function rejection(entry: VectorEntry, now: Date, collateral = collateralOf(entry)) {
  const result = await verifyEvidence(evidenceOf(entry), { now, collateral });
  assert.equal(result.claims, undefined, `${entry.id} verified at ${now.toISOString()}`);
  const fails = failed(result.checks);
  assert.ok(fails.length > 0, "a refusal names its reason");
  return fails;
}

const EXPIRY = /^dcap\.((tcb_info|qe_identity|crl)\.expired|certificate\.(expired|not_yet_valid))$/;

// ---- the parsed fields ------------------------------------------------------------------------

/** index.json `parsed` keys -> the claim that carries the field. */
const TDX_FIELDS: Readonly<Record<string, keyof TdxPlatformClaims>> = {
  tee_tcb_svn: "teeTcbSvn",
  mr_seam: "mrSeam",
  td_attributes: "tdAttributes",
  xfam: "xfam",
  mr_td: "mrTd",
  mr_config_id: "mrConfigId",
  rtmr0: "rtmr0",
  rtmr1: "rtmr1",
  rtmr2: "rtmr2",
  rtmr3: "rtmr3",
  report_data: "reportData",
};
const SGX_FIELDS: Readonly<Record<string, keyof SgxPlatformClaims>> = {
  cpu_svn: "reportCpuSvn",
  attributes: "attributes",
  mr_enclave: "mrEnclave",
  mr_signer: "mrSigner",
  isv_prod_id: "isvProdId",
  isv_svn: "isvSvn",
  report_data: "reportData",
};

/** go-tdx-guest's golden values (source_asserts), in the index's prose forms. */
function checkSourceAsserts(entry: VectorEntry, claims: TdxPlatformClaims): void {
  for (const [key, value] of Object.entries(entry.source_asserts ?? {})) {
    if (key.startsWith("pcr00")) continue; // Azure's vTPM PCR, not a quote field.
    const prose = String(value);
    if (key in TDX_FIELDS) {
      assert.equal(claims[TDX_FIELDS[key] as keyof TdxPlatformClaims], prose, key);
    } else if (key === "qe_vendor_id") {
      assert.equal(claims.qe.vendorId, prose);
    } else if (key === "minimum_tee_tcb_svn") {
      assert.equal(claims.teeTcbSvn, prose);
    } else if (key === "mr_config_id/mr_owner/mr_owner_config") {
      assert.equal(prose, "48 zero bytes each");
      for (const field of [claims.mrConfigId, claims.mrOwner, claims.mrOwnerConfig]) {
        assert.equal(field, "00".repeat(48));
      }
    } else if (key.startsWith("rtmr0..2")) {
      const [list, rest] = prose.split(";");
      const rtmrs = (list as string).split(",").map((s) => s.trim());
      assert.deepEqual(rtmrs, [claims.rtmr0, claims.rtmr1, claims.rtmr2]);
      assert.match(rest ?? "", /rtmr3 zero/);
      assert.equal(claims.rtmr3, "00".repeat(48));
    } else if (key === "PCK extensions") {
      const field = (name: string) => new RegExp(`${name} ([0-9a-f]+)`).exec(prose)?.[1];
      assert.equal(claims.fmspc, field("FMSPC"));
      assert.equal(claims.pceId, field("PCEID"));
      assert.equal(claims.pceSvn, Number(field("PCESVN")));
      assert.equal(claims.cpuSvn, field("CPUSVN"));
      assert.equal(claims.ppid, field("PPID"));
    } else if (key === "QE report") {
      assert.equal(claims.qe.mrSigner, /MRSIGNER ([0-9a-f]{64})/.exec(prose)?.[1]);
      assert.equal(claims.qe.isvProdId, Number(/ISVPRODID (\d+)/.exec(prose)?.[1]));
    } else {
      assert.fail(`${entry.id}: source_asserts key ${key} is not checked`);
    }
  }
}

// ---- the oracle -------------------------------------------------------------------------------

interface QvlCollateral {
  readonly tcb_info: string;
  readonly tcb_info_signature: string;
  readonly tcb_info_issuer_chain: string;
  readonly qe_identity: string;
  readonly qe_identity_signature: string;
  readonly qe_identity_issuer_chain: string;
  readonly pck_crl: string;
  readonly root_ca_crl: string;
  readonly pck_crl_issuer_chain: string;
}

interface QvlReport {
  readonly status: string;
  readonly advisory_ids: readonly string[];
}

/** @phala/dcap-qvl is CommonJS; only its offline verify() is used, never its PCCS fetchers. */
const qvl = createRequire(import.meta.url)("@phala/dcap-qvl") as {
  verify(quote: Uint8Array, collateral: QvlCollateral, nowSeconds: number): QvlReport;
};

type QvlOutcome = { readonly report: QvlReport } | { readonly error: string };

function runQvl(quote: Uint8Array, collateral: QvlCollateral, now: Date): QvlOutcome {
  try {
    return { report: qvl.verify(quote, collateral, Math.floor(now.getTime() / SECOND)) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/**
 * A PCS body `{"tcbInfo":…,"signature":"…"}` split into what dcap-qvl takes: the signed value's
 * exact text and the hex signature. Read here by pattern, not by Cloister's collateral parser,
 * so that the oracle is fed independently.
 */
function pcsBody(bytes: Uint8Array): { readonly value: string; readonly signature: string } {
  const body = Buffer.from(bytes).toString("utf8");
  const match =
    /^\{"(?:tcbInfo|enclaveIdentity)":(\{.*\}),"signature":"([0-9a-fA-F]{128})"\}\s*$/s.exec(body);
  assert.ok(match, "a PCS body of one signed value and its signature");
  return { value: match[1] as string, signature: match[2] as string };
}

const pemOf = (der: Uint8Array) => new X509Certificate(der).toString();
const hexOf = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/**
 * The entry's collateral as dcap-qvl's QuoteCollateralV3: dcap-qvl's own JSON as it is; PCS
 * files converted. dcap-qvl wants each issuer chain to run up to the root, and takes a missing
 * CRL as an empty one (trustee quote 6 ships no PCK CRL).
 */
function qvlCollateral(entry: VectorEntry, tcbSigning?: Uint8Array): QvlCollateral {
  const files = entry.files;
  if (files.collateral !== undefined) return JSON.parse(text(files.collateral)) as QvlCollateral;
  assert.ok(
    files.tcb_info && files.qe_identity,
    `${entry.id} ships no PCS TCB info and QE identity`,
  );
  const pcs = files.pcs_certs ?? "tdx/automata-pcs-certs/";
  const chain =
    tcbSigning !== undefined
      ? pemOf(tcbSigning) + text(ROOT_PEM)
      : files.tcb_info_chain !== undefined
        ? text(files.tcb_info_chain)
        : pemOf(read(files.tcb_signing ?? `${pcs}${PCS_CERTS.tcbSigning}`)) + text(ROOT_PEM);
  const rootCrl =
    files.root_crl ??
    (files.pcs_certs === undefined ? undefined : `${files.pcs_certs}${PCS_CERTS.rootCrl}`);
  const tcbInfo = pcsBody(read(files.tcb_info));
  const qeIdentity = pcsBody(read(files.qe_identity));
  return {
    tcb_info: tcbInfo.value,
    tcb_info_signature: tcbInfo.signature,
    tcb_info_issuer_chain: chain,
    qe_identity: qeIdentity.value,
    qe_identity_signature: qeIdentity.signature,
    qe_identity_issuer_chain: chain,
    pck_crl: files.pck_crl === undefined ? "" : hexOf(read(files.pck_crl)),
    root_ca_crl: rootCrl === undefined ? "" : hexOf(read(rootCrl)),
    pck_crl_issuer_chain: files.pck_crl_chain === undefined ? "" : text(files.pck_crl_chain),
  };
}

// ---- the tests --------------------------------------------------------------------------------

describe("the TDX and SGX entries of index.json", () => {
  test("are all here, each with a verdict README sections 3 and 4 state", () => {
    assert.deepEqual(DCAP.map((e) => e.id).sort(), Object.keys(STATED).sort());
    for (const entry of DCAP)
      assert.equal(stated(expectationOf(entry)), STATED[entry.id], entry.id);
  });
});

for (const entry of DCAP) {
  const expectation = expectationOf(entry);
  const now = verifyTime(entry);
  const isTdx = entry.tee === "tdx";

  describe(`${entry.id} at ${now.toISOString()}`, () => {
    test("is authentic, and its claims are the fields index.json records", async () => {
      const result = await verifyEvidence(evidenceOf(entry), { now });
      assert.deepEqual(failed(result.checks), []);
      const claims = result.claims;
      assert.ok(claims, `${entry.id} is not authentic: ${codes(result.checks)}`);
      assert.equal(claims.platform, entry.tee);
      // Without collateral the TCB is not evaluated, and says so.
      assert.equal(result.checks.find((c) => c.code === "dcap.tcb")?.status, "skip");
      const parsed = entry.parsed ?? {};
      assert.ok(Object.keys(parsed).length > 0, `${entry.id} records no parsed fields`);
      const fields: Readonly<Record<string, string>> = isTdx ? TDX_FIELDS : SGX_FIELDS;
      const platform = claims.platformClaims as Record<string, unknown>;
      for (const [key, value] of Object.entries(parsed)) {
        const claim = fields[key];
        assert.ok(claim, `${entry.id}: parsed.${key} has no claim to compare with`);
        assert.equal(platform[claim], value, `${entry.id}: ${key}`);
      }
      const measurement = (isTdx ? parsed.mr_td : parsed.mr_enclave) as string;
      assert.equal(claims.measurement, measurement);
      assert.equal(toHex(claims.reportData), parsed.report_data);
      assert.equal(claims.hardwareId, (platform as { ppid: string }).ppid);
      // TD_ATTRIBUTES bit 0 (TUD.DEBUG), SGX ATTRIBUTES.FLAGS bit 1 (DEBUG).
      const attributes = Buffer.from(
        (isTdx ? parsed.td_attributes : parsed.attributes) as string,
        "hex",
      );
      assert.equal(claims.debug, ((attributes[0] as number) & (isTdx ? 1 : 2)) !== 0);
      const check = ourCheck(entry);
      assert.equal((platform as { fmspc: string }).fmspc, check.fmspc);
      if (check.qe !== undefined) {
        assert.equal((platform as { qe: { isvSvn: number } }).qe.isvSvn, check.qe.isvsvn);
      }
      if (entry.source_asserts !== undefined) checkSourceAsserts(entry, tdxClaims(claims));
    });

    if (expectation.kind === "rated") {
      const rated = expectation;

      test(`is rated ${rated.status}${rated.advisoryIds.length > 0 ? ` ${rated.advisoryIds.join(", ")}` : ""} by its collateral`, async () => {
        const result = await verifyEvidence(evidenceOf(entry), {
          now,
          collateral: collateralOf(entry),
        });
        assert.deepEqual(failed(result.checks), []);
        assert.ok(result.claims, "authentic");
        const tcb = (result.claims.platformClaims as { tcb?: DcapTcbClaim }).tcb;
        assert.ok(tcb, "the TCB is evaluated");
        assert.equal(tcb.status, rated.status);
        assert.deepEqual(tcb.advisoryIds, rated.advisoryIds);
        assert.equal(tcb.platformStatus, rated.status);
        assert.equal(tcb.tcbDate, rated.tcbDate);
        assert.equal(tcb.qeStatus, rated.qeStatus);
        assert.equal(tcb.moduleId, rated.module?.[0]);
        assert.equal(tcb.moduleStatus, rated.module?.[1]);
        for (const code of [
          "dcap.chain.pck",
          "dcap.qe_report.signature",
          "dcap.qe_report.binding",
          "dcap.quote.signature",
          "dcap.collateral.signature",
          "dcap.tcb_info.current",
          "dcap.qe_identity.current",
          "dcap.tcb_info.platform",
          "dcap.qe_identity.match",
          "dcap.tcb.level",
          "dcap.crl.root",
        ]) {
          assert.equal(result.checks.find((c) => c.code === code)?.status, "pass", code);
        }
        // Revocation of the PCK is checked where the entry ships a PCK CRL, and said unknown
        // where it does not (trustee quote 6).
        const shipsPckCrl = parseCollateralBundle(collateralText(entry) as string).pckCrl;
        const pckCrl = result.checks.find((c) => c.code === "dcap.crl.pck")?.status;
        assert.equal(pckCrl, shipsPckCrl === undefined ? "skip" : "pass");
      });

      test(`a policy accepting ${rated.status} and pinning its measurement gives its verdict`, async () => {
        const measurement = (isTdx ? entry.parsed?.mr_td : entry.parsed?.mr_enclave) as string;
        const policy: Policy = {
          platforms: [entry.tee as "tdx" | "sgx"],
          measurements: [measurement],
          dcap: { tcbStatuses: [rated.status] },
        };
        const result = await attest(evidenceOf(entry), policy, {
          now,
          collateral: collateralOf(entry),
        });
        assert.deepEqual(failed(result.checks), []);
        assert.equal(result.checks.find((c) => c.code === "policy.measurement")?.status, "pass");
        const status = result.checks.find((c) => c.code === "dcap.policy.tcb_status");
        assert.ok(status, "the TCB status is appraised");
        const warnings = result.checks.filter((c) => c.status === "warn");
        if (rated.status === "UpToDate") {
          assert.equal(result.verdict, "affirming");
          assert.equal(status.status, "pass");
          assert.deepEqual(warnings, []);
        } else {
          assert.equal(result.verdict, "warning");
          // The one warning is the named status, with the advisories that explain it.
          assert.deepEqual(codes(warnings), ["dcap.policy.tcb_status"]);
          assert.match(status.message, new RegExp(`\\b${rated.status}\\b`));
          for (const id of rated.advisoryIds) assert.ok(status.message.includes(id), id);
        }
      });

      test("the default policy accepts only UpToDate", async () => {
        const result = await attest(
          evidenceOf(entry),
          { platforms: [entry.tee as "tdx" | "sgx"] },
          { now, collateral: collateralOf(entry) },
        );
        if (rated.status === "UpToDate") {
          assert.equal(result.verdict, "affirming");
        } else {
          assert.equal(result.verdict, "contraindicated");
          assert.deepEqual(codes(failed(result.checks)), ["dcap.policy.tcb_status"]);
        }
      });

      const window = ourCheck(entry).collateral_window;
      if (window !== undefined) {
        test(`the collateral window ${window.join(" .. ")} is where it verifies`, async () => {
          const [from, to] = window.map(windowTime) as [Date, Date];
          const options = (at: Date) => ({ now: at, collateral: collateralOf(entry) });
          // The window's last second is inside: nextUpdate is the last valid instant.
          const last = await verifyEvidence(evidenceOf(entry), options(to));
          assert.deepEqual(failed(last.checks), []);
          assert.ok(last.claims, "authentic at the end of the window");
          for (const outside of [
            new Date(from.getTime() - SECOND),
            new Date(to.getTime() + SECOND),
          ]) {
            const fails = await rejection(entry, outside);
            assert.equal(fails.length, 1, codes(fails).join());
            assert.match((fails[0] as Check).code, EXPIRY, (fails[0] as Check).message);
          }
        });
      }
    }

    if (expectation.kind === "no_match") {
      test("is refused: Intel's TCB info has no level for this platform (dcap.tcb.no_match)", async () => {
        const fails = await rejection(entry, now);
        assert.deepEqual(codes(fails), ["dcap.tcb.no_match"]);
        const result = await attest(
          evidenceOf(entry),
          { platforms: [entry.tee as "tdx" | "sgx"], dcap: { tcbStatuses: ["OutOfDate"] } },
          { now, collateral: collateralOf(entry) },
        );
        assert.equal(result.verdict, "contraindicated");
        assert.equal(result.claims, undefined);
        assert.deepEqual(codes(failed(result.checks)), ["dcap.tcb.no_match"]);
      });

      for (const later of mustFailTimes(entry)) {
        // go-tdx-guest: "2053-07-01T01:00:00Z must fail with PCK expiry / tcbInfo has expired".
        test(`is refused at ${later.toISOString()}: the PCK certificate expired`, async () => {
          const fails = await rejection(entry, later);
          assert.deepEqual(codes(fails), ["dcap.certificate.expired"]);
          assert.match((fails[0] as Check).message, /^The PCK certificate expired/);
        });
      }

      const window = ourCheck(entry).collateral_window;
      if (window !== undefined) {
        test(`a month after its collateral window (${window[1]}) the TCB info is expired`, async () => {
          // Still inside the TCB signing certificate's life: the TCB info is stale, and that is
          // found before the TCB level is looked for.
          const month = await rejection(
            entry,
            new Date(windowTime(window[1]).getTime() + 30 * DAY),
          );
          assert.deepEqual(codes(month), ["dcap.tcb_info.expired"]);
        });
      }
    }

    if (expectation.kind === "no_consistent_time") {
      /*
       * go-tdx-guest's v5 sample: its TCB info is current 2026-02-01..2026-03-03, the QE identity
       * it borrows from the SPR sample 2023-06-08..2023-07-08, and the TCB Signing certificate of
       * go-tdx-guest's chain expired 2025-05-21 (README section 9). No instant makes all of it
       * current, so no verifier that checks collateral freshness (Intel TDX DCAP Quote
       * Verification, 4.1.2.4: TCB info and QE identity must be within issueDate..nextUpdate)
       * can rate this quote. Asserted: the exact refusal with the files the entry names; the exact
       * refusal with Intel's 2025 re-issue of the signing certificate (same key); and, separately,
       * that the parts that can be evaluated give what the source asserts (UpToDate, TDX_01).
       */
      test("its collateral has no common validity time, so it is refused with the exact reason", async () => {
        const asNamed = await rejection(entry, now);
        assert.deepEqual(codes(asNamed), ["dcap.certificate.expired"]);
        assert.match((asNamed[0] as Check).message, /Intel SGX TCB Signing certificate expired/);
        const reissued = read(`tdx/automata-pcs-certs/${PCS_CERTS.tcbSigning}`);
        const bundle = collateralText(entry, reissued) as string;
        const fails = await rejection(entry, now, { dcap_collateral: bundle });
        assert.deepEqual(codes(fails), ["dcap.qe_identity.expired"]);
        const parsed = parseCollateralBundle(bundle);
        const info = parseTcbInfo(parsed.tcbInfo);
        const identity = parseQeIdentity(parsed.qeIdentity);
        // The two documents' windows are disjoint.
        assert.ok(
          identity.nextUpdate < info.issueDate,
          "the QE identity expires before the TCB info is issued",
        );
        assert.ok(info.issueDate <= now && now <= info.nextUpdate, "the TCB info is current");
      });

      test("the TD body matches the v5 TCB info: UpToDate, module TDX_01 UpToDate", async () => {
        const reissued = read(`tdx/automata-pcs-certs/${PCS_CERTS.tcbSigning}`);
        const parsed = parseCollateralBundle(collateralText(entry, reissued) as string);
        const authentic = await verifyEvidence(evidenceOf(entry), { now });
        assert.ok(authentic.claims, "authentic");
        const claims = tdxClaims(authentic.claims);
        const quote = parseQuote(read(quotePath(entry)));
        assert.equal(quote.teeType, "tdx");
        if (quote.teeType !== "tdx") return;
        const platform = evaluateTdxTcb(parseTcbInfo(parsed.tcbInfo), {
          cpuSvnComponents: [...Buffer.from(claims.cpuSvn, "hex")],
          pceSvn: claims.pceSvn,
          teeTcbSvn: quote.body.teeTcbSvn,
          mrSignerSeam: quote.body.mrSignerSeam,
          seamAttributes: quote.body.seamAttributes,
        });
        const qeReport = quote.signatureData.certification.qeReport;
        const qe = evaluateQeIdentity(
          parseQeIdentity(parsed.qeIdentity),
          {
            mrSigner: qeReport.mrSigner,
            isvProdId: qeReport.isvProdId,
            miscSelect: qeReport.miscSelect,
            attributes: qeReport.attributes.raw,
            isvSvn: qeReport.isvSvn,
          },
          "tdx",
        );
        const check = ourCheck(entry);
        const [status, advisories, tcbDate] = check.platform_tcb_level ?? [];
        assert.equal(platform.status, status);
        assert.deepEqual(platform.advisoryIds, advisories ?? []);
        assert.equal(platform.tcbDate, tcbDate);
        assert.deepEqual([platform.module?.id, platform.module?.status], check.tdx_module_identity);
        // The unpatched identity already rates QE ISVSVN 7 UpToDate (the README's point).
        assert.equal(qe.status, check.qe?.qe_tcb_status);
        assert.equal(qeReport.isvSvn, check.qe?.isvsvn);
        assert.equal(convergeStatus(platform, qe, platform.module).status, "UpToDate");
      });
    }

    if (expectation.kind === "no_collateral") {
      test("with no collateral: authentic, TCB unevaluated, refused by default only for that", async () => {
        const collateral = collateralOf(entry, false);
        const authentic = await verifyEvidence(evidenceOf(entry), { now, collateral });
        // Trustee's CCEL_data is from another boot than tdx_quote_4.dat: asserted below.
        if (entry.id !== "tdx/trustee-quote4") {
          assert.ok(authentic.claims, codes(failed(authentic.checks)).join());
        }
        const result = await attest(
          evidenceOf(entry),
          { platforms: [entry.tee as "tdx" | "sgx"] },
          { now, collateral: entry.id === "tdx/trustee-quote4" ? {} : collateral },
        );
        assert.equal(result.verdict, "contraindicated");
        assert.ok(result.claims, "authentic");
        assert.equal(result.checks.find((c) => c.code === "dcap.tcb")?.status, "skip");
        // A debug TEE (trustee quote 4's TD, Occlum's enclave) is refused for that as well.
        const expected = [
          "dcap.policy.tcb_status",
          ...(result.claims.debug ? ["policy.debug"] : []),
        ];
        assert.deepEqual(codes(failed(result.checks)).sort(), expected.sort());
      });
    }
  });
}

describe("tdx/go-tdx-guest-gcp-ccel with its CCEL", () => {
  const entry = VECTOR_INDEX.find((e) => e.id === "tdx/go-tdx-guest-gcp-ccel") as VectorEntry;

  test("replays to RTMR0-2, and the boot claims and REPORTDATA = nonce follow", async () => {
    const now = verifyTime(entry);
    const nonce = read(entry.files.nonce as string);
    const result = await attest(
      evidenceOf(entry),
      { platforms: ["tdx"] },
      { now, collateral: collateralOf(entry), expectedReportData: nonce },
    );
    const replay = result.checks.filter((c) => c.code === "tdx.event_log.rtmr_replay");
    assert.deepEqual(
      replay.map((c) => [c.message.slice(0, 5), c.status]),
      [
        ["RTMR0", "pass"],
        ["RTMR1", "pass"],
        ["RTMR2", "pass"],
        ["RTMR3", "skip"],
      ],
    );
    assert.equal(result.checks.find((c) => c.code === "binding.report_data")?.status, "pass");
    assert.ok(result.claims, "authentic");
    const log = tdxClaims(result.claims).eventLog;
    assert.ok(log, "the event log claim");
    assert.equal(log.replayed, true);
    assert.ok(log.events > 0, "events were replayed");
    assert.ok(
      log.kernelCmdline !== undefined && log.kernelCmdline.length > 0,
      "a kernel command line",
    );
    // Only the missing collateral stands between this quote and a verdict.
    assert.deepEqual(codes(failed(result.checks)), ["dcap.policy.tcb_status"]);
  });
});

describe("tdx/trustee-quote4", () => {
  const entry = VECTOR_INDEX.find((e) => e.id === "tdx/trustee-quote4") as VectorEntry;
  const expected = JSON.parse(text(entry.files.expected_claims as string)) as {
    quote: { header: Record<string, string>; body: Record<string, string> };
    uefi_event_logs: { index: number; digests: { alg: string; digest: string }[] }[];
  };

  test("has the claims trustee's parse_tdx_claims expects", async () => {
    const result = await verifyEvidence(evidenceOf(entry), { now: verifyTime(entry) });
    assert.ok(result.claims, "authentic");
    const claims = tdxClaims(result.claims);
    const body = expected.quote.body;
    assert.deepEqual(
      {
        mr_config_id: claims.mrConfigId,
        mr_owner: claims.mrOwner,
        mr_owner_config: claims.mrOwnerConfig,
        mr_seam: claims.mrSeam,
        mr_td: claims.mrTd,
        mrsigner_seam: claims.mrSignerSeam,
        report_data: claims.reportData,
        rtmr_0: claims.rtmr0,
        rtmr_1: claims.rtmr1,
        rtmr_2: claims.rtmr2,
        rtmr_3: claims.rtmr3,
        seam_attributes: claims.seamAttributes,
        tcb_svn: claims.teeTcbSvn,
        td_attributes: claims.tdAttributes,
        xfam: claims.xfam,
      },
      body,
    );
    assert.equal(claims.qe.vendorId, expected.quote.header.vendor_id);
    assert.equal(claims.quoteVersion, 4);
    assert.equal(result.claims.debug, true);
  });

  test("its CCEL_data is from another boot: replay refuses it (tdx.event_log.rtmr_mismatch)", async () => {
    // trustee's own digests, replayed here independently, do not reach the quote's RTMR0/1.
    const rtmrs = [0, 1, 2, 3].map(() => Buffer.alloc(48));
    for (const event of expected.uefi_event_logs) {
      const digest = event.digests.find((d) => d.alg === "SHA-384")?.digest as string;
      const i = event.index - 1;
      rtmrs[i] = createHash("sha384")
        .update(Buffer.concat([rtmrs[i] as Buffer, Buffer.from(digest, "hex")]))
        .digest();
    }
    assert.notEqual((rtmrs[0] as Buffer).toString("hex"), expected.quote.body.rtmr_0);
    assert.notEqual((rtmrs[1] as Buffer).toString("hex"), expected.quote.body.rtmr_1);
    const result = await verifyEvidence(evidenceOf(entry), {
      now: verifyTime(entry),
      collateral: collateralOf(entry, false),
    });
    assert.equal(result.claims, undefined);
    const fails = failed(result.checks);
    assert.deepEqual(codes(fails), ["tdx.event_log.rtmr_mismatch", "tdx.event_log.rtmr_mismatch"]);
    // Cloister's replay of the log reaches the same values trustee's digests do.
    fails.forEach((fail, i) => {
      const replayed = (rtmrs[i] as Buffer).toString("hex").slice(0, 16);
      assert.ok(fail.message.includes(replayed), `RTMR${i} replays to ${replayed}…`);
    });
  });
});

describe("@phala/dcap-qvl as an oracle, on the same bytes and time, with local collateral", () => {
  for (const entry of DCAP) {
    const expectation = expectationOf(entry);
    if (expectation.kind === "no_collateral") continue;
    const now = verifyTime(entry);

    test(`${entry.id}: the same verdict`, async () => {
      const quote = read(quotePath(entry));
      const oracle = runQvl(quote, qvlCollateral(entry), now);
      const ours = await verifyEvidence(evidenceOf(entry), {
        now,
        collateral: collateralOf(entry),
      });
      const tcb = (ours.claims?.platformClaims as { tcb?: DcapTcbClaim } | undefined)?.tcb;
      switch (expectation.kind) {
        case "rated":
          if (entry.id === "tdx/automata-alibaba-v5") {
            /*
             * The one disagreement. dcap-qvl refuses every TDX 1.5 body whose MRSERVICETD is not
             * zero (its validateTd15). Intel's Quote Verification Library checks no such thing:
             * QuoteVerifier::verify, steps 4.1.2.4.4 to 4.1.2.4.17 of the Intel TDX DCAP Quote
             * Verification flow, covers the PCK, CRLs, TCB info, TDX module identity, QE report
             * signature and binding, QE identity, quote signature and TCB level, and never reads
             * MRSERVICETD. MRSERVICETD measures the service TDs bound to this TD (Intel TDX
             * module ABI, TDREPORT_STRUCT / TDINFO_STRUCT): it is a workload fact for the
             * appraisal policy, not part of the quote's authenticity or TCB status. Alibaba's
             * quote carries a non-zero MRSERVICETD, so dcap-qvl refuses before rating; Cloister
             * rates it UpToDate, as index.json records.
             */
            assert.deepEqual(oracle, { error: "Invalid mr service td" });
            assert.ok(ours.claims, "authentic");
            const mrServiceTd = tdxClaims(ours.claims).mrServiceTd;
            assert.ok(
              mrServiceTd !== undefined && /[^0]/.test(mrServiceTd),
              "MRSERVICETD is not zero",
            );
            assert.equal(tcb?.status, expectation.status);
            return;
          }
          assert.ok(
            "report" in oracle,
            `dcap-qvl refused: ${"error" in oracle ? oracle.error : ""}`,
          );
          assert.equal(oracle.report.status, expectation.status);
          assert.deepEqual([...oracle.report.advisory_ids].sort(), expectation.advisoryIds);
          assert.equal(tcb?.status, oracle.report.status);
          assert.deepEqual(tcb?.advisoryIds, [...oracle.report.advisory_ids].sort());
          return;
        case "no_match":
          assert.deepEqual(oracle, { error: "No matching TCB level found" });
          assert.deepEqual(codes(failed(ours.checks)), ["dcap.tcb.no_match"]);
          return;
        case "no_consistent_time": {
          // Both refuse for the same expired document, with either signing certificate.
          assert.deepEqual(oracle, { error: "Certificate is expired or not yet valid" });
          assert.deepEqual(codes(failed(ours.checks)), ["dcap.certificate.expired"]);
          const reissued = read(`tdx/automata-pcs-certs/${PCS_CERTS.tcbSigning}`);
          const again = runQvl(quote, qvlCollateral(entry, reissued), now);
          assert.deepEqual(again, { error: "QE Identity expired" });
          return;
        }
      }
    });
  }
});
