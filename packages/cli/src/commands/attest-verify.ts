import {
  type AttestationResult,
  attest,
  type Check,
  type Claims,
  type Collateral,
  fromHex,
  SNP_COLLATERAL,
  type SnpPlatformClaims,
  toHex,
  verifyEvidence,
} from "@cloister/core";
import { cloisterConfigDir } from "@cloister/server/tee";
import { Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { fetchSnpCollateral } from "../collateral/snp.js";
import { readCertificates, readEvidenceFile, readInput } from "../evidence-files.js";
import { resolvePolicy } from "../policy-flags.js";
import { MARK } from "../report.js";

export function attestVerifyCommand() {
  return new Command("verify")
    .description(
      "Verify evidence from a file, offline: parse, check every signature to the pinned vendor roots, and appraise it against a policy. Exit status 0 only for an affirming verdict.",
    )
    .argument(
      "<evidence>",
      "the evidence file: an SEV-SNP report (raw, hex or followed by its certificate table) or an Azure HCL report / vTPM evidence JSON; the format is detected",
    )
    .addOption(
      new Option(
        "--certs <file|dir>",
        "the signing certificate (VCEK or VLEK) and any others, PEM or DER; a directory means every .pem/.der/.crt/.cer file in it (repeatable)",
      ).argParser(collect),
    )
    .option(
      "--crl <file>",
      "AMD's CRL for the product (PEM or DER); without it revocation is unknown",
    )
    .option(
      "--fetch-collateral",
      "fetch the VCEK, chain and CRL from AMD KDS (network; cached under the Cloister home)",
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
    .option("--authenticity-only", "skip appraisal: exit 0 iff the evidence is authentic")
    .option("--json", "print the result as JSON")
    .action(async (path, options) => {
      const file = await readEvidenceFile(path);
      const collateral: Record<string, Uint8Array | string> = { ...file.collateral };
      const certificates = await readCertificates(options.certs ?? []);
      if (certificates !== undefined) collateral[SNP_COLLATERAL.certificates] = certificates;
      if (options.crl !== undefined)
        collateral[SNP_COLLATERAL.crl] = await readInput(options.crl, "CRL");
      if (options.fetchCollateral === true) {
        Object.assign(
          collateral,
          await fetchSnpCollateral(file.evidence, collateral, {
            cacheDir: cloisterConfigDir(),
            refresh: options.refreshCollateral === true,
            ...(options.kdsUrl === undefined ? {} : { baseUrl: options.kdsUrl }),
            log: (line) => process.stderr.write(`${line}\n`),
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
      const policy =
        options.chipId === undefined
          ? base
          : { ...base, hardwareIds: options.chipId.map((id) => id.toLowerCase()) };
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
  return {
    ...claims.platformClaims,
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
  if (claims.hardwareId !== undefined) lines.push(`  chip ID        ${claims.hardwareId}`);
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
  lines.push(
    `  trust anchor   ${claims.trustAnchor.name} (SHA-256 ${claims.trustAnchor.fingerprint})`,
  );
  return lines;
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
