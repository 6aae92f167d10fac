import {
  type AttestationResult,
  attest,
  type Check,
  type Claims,
  CloisterError,
  type Collateral,
  type DcapPlatformClaims,
  fromHex,
  fromUtf8,
  parseCcaReferenceValues,
  type SgxPlatformClaims,
  SNP_COLLATERAL,
  type SnpPlatformClaims,
  type TdxPlatformClaims,
  toHex,
  verifyEvidence,
} from "@cloister/core";
import { cloisterConfigDir } from "@cloister/server/tee";
import { Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { armKeyCollateral } from "../arm-keys.js";
import { dcapCollateralFiles } from "../collateral/dcap.js";
import { fetchCollateral } from "../collateral/fetch.js";
import { readCertificates, readEvidenceFile, readInput } from "../evidence-files.js";
import { resolvePolicy } from "../policy-flags.js";
import { MARK } from "../report.js";
import { gpuArch, gpuNonce, refuseFlags, verifyGpuFile } from "./attest-verify-gpu.js";
import { verifyNrasFile } from "./attest-verify-nras.js";

export function attestVerifyCommand() {
  return new Command("verify")
    .description(
      "Verify evidence from a file, offline: parse, check every signature to the pinned vendor roots, and appraise it against a policy. Exit status 0 only for an affirming verdict.",
    )
    .argument(
      "<evidence>",
      "the evidence file: an SEV-SNP report (raw, hex or followed by its certificate table), an Azure HCL report / vTPM evidence JSON, an Intel TDX or SGX quote, an Arm PSA or CCA token, or NVIDIA GPU/NVSwitch evidence (SPDM raw or hex, or the Attestation SDK's JSON for one or many devices); the format is detected",
    )
    .addOption(
      new Option(
        "--certs <file|dir>",
        "the signing certificate (VCEK or VLEK) and any others, or an NVIDIA device's chain (leaf first) when the evidence carries none; PEM or DER; a directory means every .pem/.der/.crt/.cer file in it (repeatable)",
      ).argParser(collect),
    )
    .option(
      "--crl <file>",
      "AMD's CRL for the product (PEM or DER); without it revocation is unknown",
    )
    .option(
      "--collateral <file>",
      "TDX/SGX: Intel collateral, a Cloister collateral bundle or the collateral JSON @phala/dcap-qvl reads",
    )
    .option(
      "--tcb-info <file>",
      "TDX/SGX: Intel's TCB info for the platform (the PCS response body)",
    )
    .option("--qe-identity <file>", "TDX/SGX: Intel's QE identity (the PCS response body)")
    .option(
      "--tcb-signing-chain <file>",
      "TDX/SGX: the Intel SGX TCB Signing certificate (and root) that signed the TCB info and QE identity",
    )
    .option(
      "--pck-crl <file>",
      "TDX/SGX: the PCK CRL of the Platform or Processor CA (DER, PEM or hex)",
    )
    .option("--root-crl <file>", "TDX/SGX: the Intel SGX Root CA CRL (DER, PEM or hex)")
    .option(
      "--ccel <file>",
      "TDX: the CCEL event log (/sys/firmware/acpi/tables/data/CCEL), replayed against RTMR0–2",
    )
    .option(
      "--keys <file>",
      "Arm: the PSA endorsement store or IAK (JSON key store, JWK or PEM), or the CCA platform key(s) (PEM, JWK or a veraison trust-anchor JSON); repeatable",
      collect,
    )
    .option(
      "--ref-values <file>",
      "Arm CCA: reference values for the platform software components and the realm RIM/REMs (JSON)",
    )
    .option(
      "--ccel-table <file>",
      "TDX: the CCEL ACPI table (/sys/firmware/acpi/tables/CCEL), for the log's length",
    )
    .option(
      "--fetch-collateral",
      "fetch what verification needs (network; cached under the Cloister home): the VCEK, chain and CRL from AMD KDS, or TCB info, QE identity and CRLs from Intel PCS",
    )
    .option(
      "--pccs <url>",
      "with --fetch-collateral: a PCCS (or PCS mirror) to ask instead of Intel PCS",
    )
    .option("--refresh-collateral", "with --fetch-collateral: ignore the cache")
    .option(
      "--kds-url <url>",
      "with --fetch-collateral: an AMD KDS mirror to use instead of https://kdsintf.amd.com",
    )
    .option("--now <iso-8601>", "check validity at this time instead of the clock's", instant)
    .option("--policy <file>", "a JSON policy file (see docs/sev-snp.md)")
    .addOption(
      new Option(
        "--measurement <hex>",
        "accept only this launch measurement (repeatable)",
      ).argParser(collect),
    )
    .addOption(
      new Option("--chip-id <hex>", "accept only this chip (repeatable)").argParser(collect),
    )
    .option(
      "--report-data <hex>",
      "require this report data (up to 64 bytes; shorter values are zero-padded)",
      reportData,
    )
    .option(
      "--nonce <hex>",
      "NVIDIA: the nonce the device was asked to sign (required unless the SDK JSON declares one, which proves no freshness)",
      gpuNonce,
    )
    .addOption(
      new Option(
        "--rim <file>",
        "NVIDIA: a driver or VBIOS RIM (signed SWID XML) to compare the measurements with (repeatable)",
      ).argParser(collect),
    )
    .addOption(
      new Option(
        "--ocsp <file>",
        "NVIDIA: a DER OCSP response for a certificate of the device chain, fetched beforehand (repeatable)",
      ).argParser(collect),
    )
    .option(
      "--gpu-arch <arch>",
      "NVIDIA: accept only this architecture: HOPPER, BLACKWELL or LS10 (repeatable)",
      gpuArch,
    )
    .option("--min-driver <version>", "NVIDIA: the lowest driver version accepted, e.g. 550.90.07")
    .option(
      "--min-vbios <version>",
      "NVIDIA: the lowest VBIOS version accepted, e.g. 96.00.9f.00.01",
    )
    .addOption(
      new Option(
        "--gpu-cc-mode <mode>",
        "NVIDIA: CC mode is required unless the evidence signs it (newer firmware's feature flag); 'attested-elsewhere' accepts that another check established it",
      ).choices(["required", "attested-elsewhere"] as const),
    )
    .option(
      "--allow-unknown-revocation",
      "NVIDIA: accept certificates whose revocation is unknown (no usable --ocsp response); never a revoked one",
    )
    .option(
      "--jwks <file>",
      "NVIDIA NRAS token: NRAS's signing keys (a JWKS fetched beforehand; nothing is fetched)",
    )
    .option("--authenticity-only", "skip appraisal: exit 0 iff the evidence is authentic")
    .option("--json", "print the result as JSON")
    .action(async (path, options) => {
      const file = await readEvidenceFile(path);
      if ("gpus" in file) return verifyGpuFile(path, file, options);
      if ("nras" in file) return verifyNrasFile(path, file, options);
      refuseFlags(options, "cpu", `${file.form} evidence`);
      const collateral: Record<string, Uint8Array | string> = { ...file.collateral };
      const certificates = await readCertificates(options.certs ?? []);
      if (certificates !== undefined) collateral[SNP_COLLATERAL.certificates] = certificates;
      if (options.crl !== undefined)
        collateral[SNP_COLLATERAL.crl] = await readInput(options.crl, "CRL");
      Object.assign(collateral, await dcapCollateralFiles(options));
      if (options.keys !== undefined) {
        const files = await Promise.all(options.keys.map((k) => readInput(k, "key")));
        Object.assign(collateral, await armKeyCollateral(file.evidence.platform, files));
      }
      if (options.fetchCollateral === true) {
        Object.assign(
          collateral,
          await fetchCollateral(file.evidence, collateral, {
            cacheDir: cloisterConfigDir(),
            refresh: options.refreshCollateral === true,
            ...(options.kdsUrl === undefined ? {} : { kdsUrl: options.kdsUrl }),
            ...(options.pccs === undefined ? {} : { pccs: options.pccs }),
            log: (line: string) => process.stderr.write(`${line}\n`),
          }),
        );
      }
      const now = options.now ?? new Date();
      if (options.authenticityOnly === true) {
        const result = await verifyEvidence(file.evidence, { now, collateral });
        const authentic = result.claims !== undefined;
        print(options.json === true, path, file.form, {
          status: authentic ? "authentic" : "not authentic",
          checks: result.checks,
          ...(result.claims === undefined ? {} : { claims: result.claims }),
        });
        process.exitCode = authentic ? 0 : 1;
        return;
      }
      const base = await resolvePolicy(
        {
          ...(options.policy === undefined ? {} : { policy: options.policy }),
          ...(options.measurement === undefined ? {} : { measurement: options.measurement }),
          localRoot: false,
        },
        cloisterConfigDir(),
      );
      const withIds =
        options.chipId === undefined
          ? base
          : { ...base, hardwareIds: options.chipId.map((id) => id.toLowerCase()) };
      const policy =
        options.refValues === undefined
          ? withIds
          : {
              ...withIds,
              cca: {
                ...withIds.cca,
                referenceValues: parseCcaReferenceValues(
                  await readJson(options.refValues, "reference values"),
                  "--ref-values",
                ),
              },
            };
      const result: AttestationResult = await attest(file.evidence, policy, {
        now,
        collateral: collateral as Collateral,
        ...(options.reportData === undefined ? {} : { expectedReportData: options.reportData }),
      });
      print(options.json === true, path, file.form, {
        status: result.verdict,
        checks: result.checks,
        ...(result.claims === undefined ? {} : { claims: result.claims }),
      });
      process.exitCode = result.verdict === "affirming" ? 0 : 1;
    });
}

interface Outcome {
  readonly status: string;
  readonly checks: readonly Check[];
  readonly claims?: Claims;
}

function print(json: boolean, path: string, form: string, outcome: Outcome): void {
  if (json) {
    const reasons = outcome.checks
      .filter((c) => c.status === "fail" || c.status === "warn")
      .map(({ code, message }) => ({ code, message }));
    process.stdout.write(
      `${JSON.stringify(
        {
          evidence: path,
          form,
          status: outcome.status,
          reasons,
          checks: outcome.checks,
          ...(outcome.claims === undefined ? {} : { claims: claimsJson(outcome.claims) }),
        },
        null,
        2,
      )}\n`,
    );
    return;
  }
  const width = Math.max(...outcome.checks.map((c) => c.code.length));
  const lines = [
    `Evidence   ${path} (${form})`,
    `Verdict    ${outcome.status}`,
    "",
    ...outcome.checks.map((c) => `  ${MARK[c.status]}  ${c.code.padEnd(width)}  ${c.message}`),
  ];
  if (outcome.claims !== undefined) lines.push("", ...claimLines(outcome.claims));
  process.stdout.write(`${lines.join("\n")}\n`);
}

/** Claims as JSON: the common fields, lower-case hex, with the platform's own fields beside them. */
function claimsJson(claims: Claims): Record<string, unknown> {
  const tcb = (claims.platformClaims as { tcb?: { status: string; advisoryIds: string[] } }).tcb;
  return {
    ...claims.platformClaims,
    ...(tcb === undefined ? {} : { tcbStatus: tcb.status, advisoryIds: tcb.advisoryIds }),
    platform: claims.platform,
    measurement: claims.measurement,
    reportData: toHex(claims.reportData),
    debug: claims.debug,
    ...(claims.hardwareId === undefined ? {} : { hardwareId: claims.hardwareId }),
    trustAnchor: claims.trustAnchor,
  };
}

function claimLines(claims: Claims): string[] {
  const lines = [
    "Claims",
    `  platform       ${claims.platform}`,
    `  measurement    ${claims.measurement}`,
    `  report data    ${toHex(claims.reportData)}`,
    `  debug          ${claims.debug ? "ENABLED (the host can read guest memory)" : "disabled"}`,
  ];
  if (claims.hardwareId !== undefined) lines.push(`  hardware ID    ${claims.hardwareId}`);
  if (claims.platform === "sev-snp") {
    const snp = claims.platformClaims as unknown as SnpPlatformClaims;
    const tcb = (t: SnpPlatformClaims["reportedTcb"]) =>
      `bl ${t.bootloader}, tee ${t.tee}, snp ${t.snp}, ucode ${t.microcode}${t.fmc === undefined ? "" : `, fmc ${t.fmc}`}`;
    lines.push(
      `  product        AMD ${snp.product} (${snp.productName}), report v${snp.version}, signed by the ${snp.signingKey.toUpperCase()}${snp.cspId === undefined ? "" : ` of ${snp.cspId}`}`,
      `  reported TCB   ${tcb(snp.reportedTcb)}`,
      `  current TCB    ${tcb(snp.currentTcb)}`,
      `  firmware       ${snp.firmware}`,
      `  guest policy   ABI ${snp.policy.abiMajor}.${snp.policy.abiMinor}, SMT ${snp.policy.smt ? "allowed" : "forbidden"}, migration agent ${snp.policy.migrateMa ? "allowed" : "forbidden"}, debug ${snp.policy.debug ? "allowed" : "forbidden"}`,
      `  VMPL           ${snp.vmpl}`,
      `  host data      ${snp.hostData}`,
      `  guest SVN      ${snp.guestSvn}`,
      `  revocation     ${snp.revocation}`,
    );
  }
  if (claims.platform === "tdx" || claims.platform === "sgx") lines.push(...dcapLines(claims));
  lines.push(
    `  trust anchor   ${claims.trustAnchor.name} (SHA-256 ${claims.trustAnchor.fingerprint})`,
  );
  return lines;
}

function dcapLines(claims: Claims): string[] {
  const lines: string[] = [];
  if (claims.platform === "tdx") {
    const tdx = claims.platformClaims as unknown as TdxPlatformClaims;
    lines.push(
      `  MRSEAM         ${tdx.mrSeam}`,
      `  TD attributes  ${tdx.tdAttributes}   XFAM ${tdx.xfam}`,
      ...(["rtmr0", "rtmr1", "rtmr2", "rtmr3"] as const).map(
        (r) => `  ${r.toUpperCase()}          ${tdx[r]}`,
      ),
    );
    if (tdx.eventLog !== undefined) {
      lines.push(
        `  event log      ${tdx.eventLog.events} events, replayed to RTMR0–2`,
        ...(tdx.eventLog.kernelCmdline === undefined
          ? []
          : [`  kernel cmdline ${tdx.eventLog.kernelCmdline}`]),
      );
    }
  } else {
    const sgx = claims.platformClaims as unknown as SgxPlatformClaims;
    lines.push(
      `  MRSIGNER       ${sgx.mrSigner}`,
      `  ISV product    ${sgx.isvProdId}, SVN ${sgx.isvSvn}`,
      `  attributes     ${sgx.attributes}`,
    );
  }
  const dcap = claims.platformClaims as unknown as DcapPlatformClaims;
  lines.push(
    `  platform       FMSPC ${dcap.fmspc}, PCE SVN ${dcap.pceSvn}, CPUSVN ${dcap.cpuSvn} (${dcap.pckIssuer} CA)`,
    dcap.tcb === undefined
      ? "  TCB status     not evaluated (no Intel collateral)"
      : `  TCB status     ${dcap.tcb.status}${dcap.tcb.advisoryIds.length === 0 ? "" : ` (${dcap.tcb.advisoryIds.join(", ")})`}, TCB date ${dcap.tcb.tcbDate}, evaluation data ${dcap.tcb.tcbEvaluationDataNumber}`,
  );
  if (dcap.tcb?.moduleId !== undefined) {
    lines.push(`  TDX module     ${dcap.tcb.moduleId} ${dcap.tcb.moduleStatus}`);
  }
  return lines;
}

async function readJson(path: string, what: string): Promise<unknown> {
  try {
    return JSON.parse(fromUtf8(await readInput(path, what)));
  } catch (error) {
    if (error instanceof CloisterError) throw error;
    throw new CloisterError("input.json", `The ${what} file ${path} is not JSON.`);
  }
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function instant(value: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError("--now takes an ISO 8601 time, e.g. 2025-09-12T00:00:00Z.");
  }
  return date;
}

function reportData(value: string): Uint8Array {
  const bytes = fromHex(value);
  if (bytes === undefined || bytes.length > 64) {
    throw new InvalidArgumentError("--report-data takes up to 64 bytes of hex.");
  }
  const padded = new Uint8Array(64);
  padded.set(bytes);
  return padded;
}
