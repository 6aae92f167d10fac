import { asBufferSource, concat, equalBytes, sha256, toHex } from "../../bytes.js";
import { CloisterError } from "../../errors.js";
import { fail, pass, skip } from "../checks.js";
import { parseOnce } from "../parse-once.js";
import { fingerprint } from "../pki/certificates.js";
import type { Check, Collateral } from "../types.js";
import { VerificationError } from "../verifier.js";
import { parseQuote } from "./abi/quote.js";
import type { Quote } from "./abi/types.js";
import { type PckChain, verifyPckChain, verifyTcbSigningChain } from "./chain.js";
import type { DcapTcbClaim } from "./claims.js";
import { type DcapCollateral, parseCollateralBundle } from "./collateral.js";
import { checkCrls } from "./crl.js";
import { DCAP_COLLATERAL } from "./formats.js";
import { evaluateQeIdentity, parseQeIdentity, qeIdentityValidity } from "./qe-identity.js";
import { parseTcbInfo, tcbInfoMatchesPck, tcbInfoValidity, verifySignedJson } from "./tcb-info.js";
import { convergeStatus, evaluateSgxTcb, evaluateTdxTcb } from "./tcb-level.js";

/** An authentic quote: its signatures chain to the pinned Intel root; the TCB if collateral was given. */
export interface VerifiedQuote {
  readonly quote: Quote;
  readonly pck: PckChain;
  readonly tcb?: DcapTcbClaim;
  readonly checks: readonly Check[];
}

/**
 * parse -> verify for a DCAP quote (Intel TDX DCAP Quote Verification, 4.1.2.4): the PCK chain to
 * the pinned root, the QE report signed by the PCK key and binding the attestation key, the
 * quote signed by that key, and, when collateral is supplied, the TCB info and QE identity signed
 * by Intel, current, for this platform, with CRLs, rating the TCB. A platform Intel does not rate
 * (no matching level) is refused here, not left to policy.
 */
export async function verifyQuote(
  bytes: Uint8Array,
  tee: "sgx" | "tdx",
  collateral: Collateral,
  now: Date,
): Promise<VerifiedQuote> {
  const quote = parseQuote(bytes);
  if (quote.teeType !== tee) {
    throw new VerificationError(
      "dcap.quote.tee",
      `The quote is ${quote.teeType.toUpperCase()} evidence, presented as ${tee.toUpperCase()}.`,
    );
  }
  const certification = quote.signatureData.certification;
  const pck = await verifyPckChain(certification.pckChainPem, now);
  const checks: Check[] = [...pck.checks];
  checks.push(await qeReportSignature(quote, pck));
  checks.push(await qeReportBinding(quote));
  checks.push(await quoteSignature(quote));
  const bundle = collateralOf(collateral);
  if (bundle === undefined) {
    checks.push(
      skip(
        "dcap.tcb",
        "The TCB was not evaluated: no Intel collateral (TCB info, QE identity) was supplied.",
      ),
    );
    return { quote, pck, checks };
  }
  // The quote is authentic by now; a collateral problem is reported beside the checks that
  // passed (as a failed check, which withholds the claims), so the reader sees how far it got.
  try {
    const evaluated = await evaluateTcb(quote, pck, bundle, now);
    return { quote, pck, tcb: evaluated.tcb, checks: [...checks, ...evaluated.checks] };
  } catch (error) {
    if (!(error instanceof CloisterError)) throw error;
    return { quote, pck, checks: [...checks, fail(error.code, error.message)] };
  }
}

async function qeReportSignature(quote: Quote, pck: PckChain): Promise<Check> {
  const certification = quote.signatureData.certification;
  const valid = await crypto.subtle.verify(
    { name: "ECDSA", hash: "SHA-256" },
    pck.leafKey,
    asBufferSource(certification.qeReportSignature),
    asBufferSource(certification.qeReport.bytes),
  );
  if (!valid) {
    throw new VerificationError(
      "dcap.qe_report.signature",
      "The Quoting Enclave's report is not signed by the PCK key: the quote was altered or assembled from parts.",
    );
  }
  return pass("dcap.qe_report.signature", "The Quoting Enclave's report is signed by the PCK key.");
}

/** The QE vouches for the attestation key: REPORTDATA = SHA-256(key || QE auth data) || zeros. */
async function qeReportBinding(quote: Quote): Promise<Check> {
  const { attestationKey, certification } = quote.signatureData;
  const expected = await sha256(concat([attestationKey, certification.qeAuthData]));
  const reportData = certification.qeReport.reportData;
  if (!equalBytes(reportData.subarray(0, 32), expected) || reportData.subarray(32).some((b) => b)) {
    throw new VerificationError(
      "dcap.qe_report.binding",
      "The Quoting Enclave's report does not vouch for the quote's attestation key.",
    );
  }
  return pass(
    "dcap.qe_report.binding",
    "The Quoting Enclave's report binds the attestation key (SHA-256 of key and QE auth data).",
  );
}

const attestationKeys = new Map<string, Promise<CryptoKey>>();

async function quoteSignature(quote: Quote): Promise<Check> {
  const raw = quote.signatureData.attestationKey;
  const id = toHex(raw);
  let key = attestationKeys.get(id);
  if (key === undefined) {
    key = crypto.subtle.importKey(
      "raw",
      asBufferSource(concat([Uint8Array.of(4), raw])),
      { name: "ECDSA", namedCurve: "P-256" },
      false,
      ["verify"],
    );
    if (attestationKeys.size >= 256) attestationKeys.clear();
    attestationKeys.set(id, key);
    key.catch(() => attestationKeys.delete(id));
  }
  let valid: boolean;
  try {
    valid = await crypto.subtle.verify(
      { name: "ECDSA", hash: "SHA-256" },
      await key,
      asBufferSource(quote.signatureData.signature),
      asBufferSource(quote.signedBytes),
    );
  } catch {
    // A key that is not a P-256 point cannot have signed anything.
    valid = false;
  }
  if (!valid) {
    throw new VerificationError(
      "dcap.quote.signature",
      "The quote's signature does not verify with its attestation key: the header or body was altered.",
    );
  }
  return pass(
    "dcap.quote.signature",
    "The quote is signed by the attestation key the QE vouches for.",
  );
}

function collateralOf(collateral: Collateral): DcapCollateral | undefined {
  const input = collateral[DCAP_COLLATERAL.bundle];
  return input === undefined ? undefined : parseBundle(input);
}

/** Parsing the JSON once is what keeps a warm verification cheap. */
const parseBundle = parseOnce(parseCollateralBundle);

const signedJsonVerified = new Set<string>();

async function verifyOnce(
  signed: DcapCollateral["tcbInfo"],
  key: CryptoKey,
  what: "tcb_info" | "qe_identity",
  signer: string,
): Promise<void> {
  // Keyed by what was signed and the signature, so a changed byte is verified afresh.
  const id = `${what}:${signer}:${toHex(signed.signature)}:${toHex(await sha256(signed.signedBytes))}`;
  if (signedJsonVerified.has(id)) return;
  await verifySignedJson(signed, key, what);
  if (signedJsonVerified.size >= 256) signedJsonVerified.clear();
  signedJsonVerified.add(id);
}

async function evaluateTcb(
  quote: Quote,
  pck: PckChain,
  bundle: DcapCollateral,
  now: Date,
): Promise<{ tcb: DcapTcbClaim; checks: Check[] }> {
  const signing = await verifyTcbSigningChain(bundle.tcbSigningChain, now);
  const signer = fingerprint(signing.signer);
  await verifyOnce(bundle.tcbInfo, signing.key, "tcb_info", signer);
  await verifyOnce(bundle.qeIdentity, signing.key, "qe_identity", signer);
  const info = parseTcbInfo(bundle.tcbInfo);
  const identity = parseQeIdentity(bundle.qeIdentity);
  const checks: Check[] = [
    ...signing.checks,
    pass(
      "dcap.collateral.signature",
      "The TCB info and QE identity are signed by Intel's TCB signing key.",
    ),
  ];
  for (const validity of [tcbInfoValidity(info, now), qeIdentityValidity(identity, now)]) {
    if (validity.status === "fail") throw new VerificationError(validity.code, validity.message);
    checks.push(validity);
  }
  checks.push(...tcbInfoMatchesPck(info, pck.extensions));
  checks.push(
    ...(await checkCrls(
      { pckCrl: bundle.pckCrl, rootCrl: bundle.rootCrl },
      pck,
      signing.signer,
      now,
    )),
  );
  const qeReport = quote.signatureData.certification.qeReport;
  const qe = evaluateQeIdentity(
    identity,
    {
      mrSigner: qeReport.mrSigner,
      isvProdId: qeReport.isvProdId,
      miscSelect: qeReport.miscSelect,
      attributes: qeReport.attributes.raw,
      isvSvn: qeReport.isvSvn,
    },
    quote.teeType,
  );
  checks.push(...qe.checks);
  const sgxInput = {
    cpuSvnComponents: pck.extensions.cpuSvnComponents,
    pceSvn: pck.extensions.pceSvn,
  };
  const platform =
    quote.teeType === "tdx"
      ? evaluateTdxTcb(info, {
          ...sgxInput,
          teeTcbSvn: quote.body.teeTcbSvn,
          mrSignerSeam: quote.body.mrSignerSeam,
          seamAttributes: quote.body.seamAttributes,
        })
      : evaluateSgxTcb(info, sgxInput);
  checks.push(...platform.checks);
  const converged = convergeStatus(platform, qe, platform.module);
  const tcb: DcapTcbClaim = {
    status: converged.status,
    advisoryIds: [...converged.advisoryIds].sort(),
    tcbDate: platform.tcbDate,
    tcbEvaluationDataNumber: info.tcbEvaluationDataNumber,
    platformStatus: platform.status,
    qeStatus: qe.status,
    ...(platform.module === undefined
      ? {}
      : { moduleId: platform.module.id, moduleStatus: platform.module.status }),
    tcbInfoIssueDate: info.issueDate.toISOString(),
    tcbInfoNextUpdate: info.nextUpdate.toISOString(),
    qeIdentityIssueDate: identity.issueDate.toISOString(),
    qeIdentityNextUpdate: identity.nextUpdate.toISOString(),
  };
  return { tcb, checks };
}
