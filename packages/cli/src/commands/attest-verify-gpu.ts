import { nodeRimVerifier } from "@cloister/client";
import {
  appraiseGpu,
  type Check,
  CloisterError,
  compareGpuWithRims,
  fail,
  fromHex,
  type GpuClaims,
  type GpuEvidenceInput,
  type GpuPolicy,
  gpuCcMode,
  type NvidiaArchitecture,
  parseGpuEvidence,
  pass,
  type Rim,
  rimsForChip,
  type Verdict,
  verdictOf,
  verifyGpuEvidence,
  warn,
} from "@cloister/core";
import { InvalidArgumentError } from "@commander-js/extra-typings";
import { type GpuEvidenceFile, readCertificates, readInput } from "../evidence-files.js";
import { readPolicyFile } from "../policy-flags.js";
import { MARK } from "../report.js";

/** The `attest verify` flags the GPU branch reads. */
export interface GpuVerifyFlags {
  readonly certs?: readonly string[];
  readonly nonce?: Uint8Array;
  readonly rim?: readonly string[];
  /** DER OCSP responses (files) for the devices' certificate chains. */
  readonly ocsp?: readonly string[];
  readonly now?: Date;
  readonly gpuArch?: readonly NvidiaArchitecture[];
  readonly minDriver?: string;
  readonly minVbios?: string;
  readonly gpuCcMode?: "required" | "attested-elsewhere";
  readonly allowUnknownRevocation?: boolean;
  readonly authenticityOnly?: boolean;
  readonly json?: boolean;
  /** A policy file whose `nvidia` section the GPU flags refine. */
  readonly policy?: string;
}

/** Flags (by their option key) that only NVIDIA GPU evidence reads. */
const GPU_ONLY = {
  nonce: "--nonce",
  rim: "--rim",
  ocsp: "--ocsp",
  gpuArch: "--gpu-arch",
  minDriver: "--min-driver",
  minVbios: "--min-vbios",
  gpuCcMode: "--gpu-cc-mode",
  allowUnknownRevocation: "--allow-unknown-revocation",
} as const;

/** Flags that only CPU evidence reads. */
const CPU_ONLY = {
  crl: "--crl",
  collateral: "--collateral",
  tcbInfo: "--tcb-info",
  qeIdentity: "--qe-identity",
  tcbSigningChain: "--tcb-signing-chain",
  pckCrl: "--pck-crl",
  rootCrl: "--root-crl",
  ccel: "--ccel",
  ccelTable: "--ccel-table",
  keys: "--keys",
  refValues: "--ref-values",
  fetchCollateral: "--fetch-collateral",
  pccs: "--pccs",
  refreshCollateral: "--refresh-collateral",
  kdsUrl: "--kds-url",
  measurement: "--measurement",
  chipId: "--chip-id",
  reportData: "--report-data",
} as const;

/** A flag that the evidence's kind does not read is refused rather than silently ignored. */
export function refuseFlags(options: object, kind: "gpu" | "cpu", form: string): void {
  const flags: Readonly<Record<string, string>> = kind === "gpu" ? CPU_ONLY : GPU_ONLY;
  const given = Object.keys(flags).filter(
    (key) => (options as Record<string, unknown>)[key] !== undefined,
  );
  if (given.length === 0) return;
  const names = given.map((key) => flags[key]).join(", ");
  throw new CloisterError(
    "input.flag_unsupported",
    `${names} ${given.length === 1 ? "does" : "do"} not apply to ${form}.`,
  );
}

interface GpuResult {
  readonly index: number;
  readonly arch: string;
  readonly status: string;
  readonly checks: readonly Check[];
  readonly claims?: GpuClaims;
  /** Present when RIMs were compared with this device's measurements. */
  readonly rim?: RimComparison;
}

interface RimComparison {
  /** The RIMs compared, "<product> <version>". */
  readonly rims: readonly string[];
  /** RIM indexes (SPDM block index − 1) whose measurement differs from every allowed value. */
  readonly mismatching: readonly number[];
  /** RIM indexes the RIMs require that the evidence lacks. */
  readonly missing: readonly number[];
}

/**
 * `cloister attest verify` for NVIDIA GPU and NVSwitch evidence: every device in the file is
 * verified on its own (nonce, signature, chain to the pinned NVIDIA root), its measurements
 * compared with the RIMs given, and its claims appraised; the file's status is the worst
 * device's. Exit status 0 only when every device affirms (or, with --authenticity-only, is
 * authentic).
 */
export async function verifyGpuFile(
  path: string,
  file: GpuEvidenceFile,
  options: GpuVerifyFlags,
): Promise<void> {
  refuseFlags(options, "gpu", "NVIDIA GPU evidence");
  const authenticityOnly = options.authenticityOnly === true;
  if (authenticityOnly && options.rim !== undefined) {
    throw new CloisterError(
      "input.flag_unsupported",
      "--rim appraises the measurements; it does not go with --authenticity-only.",
    );
  }
  const now = options.now ?? new Date();
  const chain = await certChain(path, file, options.certs ?? []);
  const nonces = file.gpus.map((gpu, i) => nonceFor(gpu, i, options.nonce));
  const rims = options.rim === undefined ? undefined : await verifyRims(options.rim, now);
  const ocsp = await Promise.all((options.ocsp ?? []).map((p) => readInput(p, "OCSP response")));
  const policy = await gpuPolicy(options);
  const gpus = await Promise.all(
    file.gpus.map((input, index) =>
      verifyDevice(input, index, {
        chain,
        nonce: nonces[index] as DeviceNonce,
        now,
        ocsp,
        rims: rims?.rims,
        policy: authenticityOnly ? undefined : policy,
      }),
    ),
  );
  const fileChecks = rims?.checks ?? [];
  const status = authenticityOnly
    ? gpus.every((g) => g.status === "authentic")
      ? "authentic"
      : "not authentic"
    : worst([verdictOf(fileChecks), ...gpus.map((g) => g.status as Verdict)]);
  const output = { path, form: file.form, status, fileChecks, gpus };
  process.stdout.write(options.json === true ? jsonReport(output) : humanReport(output));
  process.exitCode = status === "affirming" || status === "authentic" ? 0 : 1;
}

/** The chain for devices whose input carries none: --certs, which must then be given. */
async function certChain(
  path: string,
  file: GpuEvidenceFile,
  certs: readonly string[],
): Promise<string | undefined> {
  const chain = await readCertificates(certs);
  const needed = file.gpus.some((gpu) => gpu.certChain === undefined);
  if (needed && chain === undefined) {
    throw new CloisterError(
      "nvidia.chain.missing",
      `${path} carries no certificate chain: give the device's chain (leaf first, as nvtrust writes it) with --certs.`,
    );
  }
  if (!needed && chain !== undefined) {
    throw new CloisterError(
      "input.flag_unsupported",
      `--certs is not used: every evidence in ${path} carries its own certificate chain.`,
    );
  }
  return chain;
}

interface DeviceNonce {
  readonly value: Uint8Array;
  readonly fromFile: boolean;
}

function nonceFor(gpu: GpuEvidenceInput, index: number, given: Uint8Array | undefined) {
  if (given !== undefined) return { value: given, fromFile: false };
  const declared = gpu.declared.nonce;
  if (declared === undefined) {
    throw new CloisterError(
      "nvidia.nonce.missing",
      "GPU evidence is fresh only for the nonce the verifier chose: give it with --nonce <hex>.",
    );
  }
  const value = fromHex(declared);
  if (value === undefined || value.length === 0) {
    throw new CloisterError(
      "nvidia.nonce.malformed",
      `The nonce that evidence ${index} declares is not hex; give the nonce with --nonce <hex>.`,
    );
  }
  return { value, fromFile: true };
}

interface VerifiedRims {
  readonly checks: readonly Check[];
  readonly rims: readonly Rim[];
}

/** Each RIM's XML signature and chain, at `now`; one refused RIM is a failed check, not an abort. */
async function verifyRims(paths: readonly string[], now: Date): Promise<VerifiedRims> {
  const verifier = nodeRimVerifier();
  const checks: Check[] = [];
  const rims: Rim[] = [];
  for (const path of paths) {
    const xml = Buffer.from(await readInput(path, "RIM")).toString("utf8");
    try {
      const { rim, signer } = await verifier.verify(xml, { now });
      rims.push(rim);
      checks.push(
        pass(
          "nvidia.rim.verified",
          `The RIM ${path} (${rim.product} ${rim.colloquialVersion}) is signed by ${signer.subject}, chained to ${signer.anchor.name}, valid until ${signer.expires.toISOString()}.`,
        ),
      );
    } catch (error) {
      if (!(error instanceof CloisterError)) throw error;
      checks.push(fail(error.code, `The RIM ${path} is refused: ${error.message}`));
    }
  }
  return { checks, rims };
}

/** The policy file's `nvidia` section, refined by the GPU flags. */
async function gpuPolicy(options: GpuVerifyFlags): Promise<GpuPolicy> {
  const base =
    options.policy === undefined ? {} : ((await readPolicyFile(options.policy)).nvidia ?? {});
  return {
    ...base,
    ...(options.gpuArch === undefined ? {} : { architectures: options.gpuArch }),
    ...(options.minDriver === undefined ? {} : { minimumDriverVersion: options.minDriver }),
    ...(options.minVbios === undefined ? {} : { minimumVbiosVersion: options.minVbios }),
    ...(options.gpuCcMode === undefined
      ? {}
      : { ccMode: options.gpuCcMode === "attested-elsewhere" ? "attested elsewhere" : "required" }),
    ...(options.allowUnknownRevocation === true ? { allowUnknownRevocation: true } : {}),
  };
}

interface DeviceContext {
  readonly chain: string | undefined;
  readonly nonce: DeviceNonce;
  readonly now: Date;
  readonly ocsp: readonly Uint8Array[];
  readonly rims: readonly Rim[] | undefined;
  /** Undefined for --authenticity-only. */
  readonly policy: GpuPolicy | undefined;
}

async function verifyDevice(
  input: GpuEvidenceInput,
  index: number,
  context: DeviceContext,
): Promise<GpuResult> {
  const checks: Check[] = [];
  let claims: GpuClaims | undefined;
  try {
    const evidence = parseGpuEvidence(input.evidence, { allowZeroPadding: true });
    // certChain() made sure that a device without its own chain has --certs.
    const chain = input.certChain ?? (context.chain as string);
    const verified = await verifyGpuEvidence(evidence, chain, {
      now: context.now,
      nonce: context.nonce.value,
      ocsp: context.ocsp,
    });
    checks.push(...verified.checks);
    claims = verified.claims;
  } catch (error) {
    if (!(error instanceof CloisterError)) throw error;
    checks.push(fail(error.code, error.message));
  }
  if (context.nonce.fromFile) {
    checks.splice(
      1,
      0,
      warn(
        "nvidia.nonce.source",
        "The nonce was read from the evidence file, not given with --nonce: the evidence is consistent with it, but nothing shows it is fresh.",
      ),
    );
  }
  const arch = claims?.architecture ?? input.declared.arch ?? "unknown";
  const base = { index, arch, ...(claims === undefined ? {} : { claims }) };
  if (context.policy === undefined) {
    return { ...base, status: claims === undefined ? "not authentic" : "authentic", checks };
  }
  let rim: RimComparison | undefined;
  if (claims !== undefined) {
    if (context.rims !== undefined) {
      const compared = compareWithRims(claims, context.rims);
      checks.push(...compared.checks);
      rim = compared.comparison;
    }
    checks.push(...appraiseGpu(claims, context.policy));
  }
  // The policy that allows unknown revocation accepts the verifier's warning about it (never a
  // revocation, which fails).
  const accepted = context.policy.allowUnknownRevocation === true ? "nvidia.revocation" : "";
  const status = verdictOf(checks.filter((c) => !(c.code === accepted && c.status === "warn")));
  return { ...base, status, checks, ...(rim === undefined ? {} : { rim }) };
}

/**
 * The RIMs for this device's chip: each must be for the driver or VBIOS version the device
 * signed, and together their active measurements must match (NVIDIA's rule: index 35 is not
 * compared when NVDEC0 is disabled, since it is then not measured).
 */
function compareWithRims(
  claims: GpuClaims,
  rims: readonly Rim[],
): { checks: Check[]; comparison?: RimComparison } {
  const mine = rimsForChip(claims, rims);
  if (mine.length === 0) {
    return {
      checks: [
        warn(
          "nvidia.rim.none",
          `No RIM given is for ${claims.chip}: its measurements are not compared.`,
        ),
      ],
    };
  }
  const versions = [claims.driverVersion, claims.vbiosVersion].flatMap((v) =>
    v === undefined ? [] : [v.toLowerCase()],
  );
  const checks: Check[] = mine.map((rim) =>
    versions.includes(rim.firmwareVersion)
      ? pass("nvidia.rim.version", `The RIM ${describe(rim)} is for the version the device runs.`)
      : fail(
          "nvidia.rim.version",
          `The RIM ${describe(rim)} is for neither the driver (${claims.driverVersion ?? "none"}) nor the VBIOS (${claims.vbiosVersion ?? "none"}) the device runs.`,
        ),
  );
  const compared = compareGpuWithRims(claims, mine);
  checks.push(...compared);
  const indexes = (code: string) =>
    compared
      .filter((c) => c.code === code)
      .map((c) => Number(/index (\d+)/.exec(c.message)?.[1]))
      .filter((n) => Number.isInteger(n));
  return {
    checks,
    comparison: {
      rims: mine.map(describe),
      mismatching: indexes("nvidia.rim.measurement_mismatch"),
      missing: indexes("nvidia.rim.measurement_missing"),
    },
  };
}

const describe = (rim: Rim) => `${rim.product} ${rim.colloquialVersion}`;

const SEVERITY: Readonly<Record<Verdict, number>> = {
  affirming: 0,
  warning: 1,
  contraindicated: 2,
};

function worst(verdicts: readonly Verdict[]): Verdict {
  return verdicts.reduce((a, b) => (SEVERITY[b] > SEVERITY[a] ? b : a), "affirming");
}

interface Output {
  readonly path: string;
  readonly form: string;
  readonly status: string;
  /** Checks of the file as a whole: the RIMs' signatures. */
  readonly fileChecks: readonly Check[];
  readonly gpus: readonly GpuResult[];
}

const reasonsOf = (checks: readonly Check[]) =>
  checks
    .filter((c) => c.status === "fail" || c.status === "warn")
    .map(({ code, message }) => ({ code, message }));

/**
 * The other platforms' shape (status, reasons, checks, claims) for the file, plus `gpus`: one
 * sub-result per device. With several devices, the file's checks and reasons carry each
 * device's own, tagged with its index, and there are no file-level claims.
 */
function jsonReport(output: Output): string {
  const single = output.gpus.length === 1 ? output.gpus[0] : undefined;
  const tagged = (gpu: GpuResult) =>
    single === undefined ? gpu.checks.map((c) => ({ gpu: gpu.index, ...c })) : gpu.checks;
  const checks = [...output.fileChecks, ...output.gpus.flatMap(tagged)];
  const reasons = checks
    .filter((c) => c.status === "fail" || c.status === "warn")
    .map(({ status: _, ...reason }) => reason);
  return `${JSON.stringify(
    {
      evidence: output.path,
      form: output.form,
      status: output.status,
      reasons,
      checks,
      ...(single?.claims === undefined ? {} : { claims: claimsJson(single.claims) }),
      gpus: output.gpus.map((gpu) => ({
        index: gpu.index,
        arch: gpu.arch,
        status: gpu.status,
        reasons: reasonsOf(gpu.checks),
        checks: gpu.checks,
        ...(gpu.claims === undefined ? {} : { claims: claimsJson(gpu.claims) }),
        ...(gpu.rim === undefined ? {} : { rim: gpu.rim }),
      })),
    },
    null,
    2,
  )}\n`;
}

/** The claims without the parsed blocks, whose values `measurements` already holds as hex. */
function claimsJson(claims: GpuClaims): Record<string, unknown> {
  const { blocks: _, ...rest } = claims;
  return { platform: "nvidia", ...rest };
}

function humanReport(output: Output): string {
  const lines = [`Evidence   ${output.path} (${output.form})`, `Verdict    ${output.status}`];
  if (output.fileChecks.length > 0) lines.push("", "RIMs", ...checkLines(output.fileChecks));
  for (const gpu of output.gpus) {
    const c = gpu.claims;
    lines.push(
      "",
      `${c?.kind === "switch" ? "NVSwitch" : "GPU"} ${gpu.index}  ${gpu.status}`,
      `  model          ${c === undefined ? `${gpu.arch} (not verified)` : `${c.architecture} ${c.chip}${c.ueid === undefined ? "" : ` (${c.ueid})`}`}`,
    );
    if (c !== undefined) {
      lines.push(
        `  driver         ${c.driverVersion ?? "not reported"}`,
        `  VBIOS          ${c.vbiosVersion ?? "not reported"}`,
        `  CC mode        ${gpuCcMode(c) ?? "not in this evidence (older firmware signs no CC feature flag)"}`,
        `  measurements   ${Object.keys(c.measurements).length} blocks; ${measurementResult(gpu)}`,
        `  FWID           ${c.fwid}`,
        `  nonce          ${c.nonce}`,
      );
    }
    lines.push(...checkLines(gpu.checks));
  }
  return `${lines.join("\n")}\n`;
}

function measurementResult(gpu: GpuResult): string {
  if (gpu.rim === undefined) {
    return gpu.checks.some((c) => c.code === "nvidia.rim.none")
      ? "no RIM given is for this device"
      : "not compared (no --rim given)";
  }
  const { rims, mismatching, missing } = gpu.rim;
  if (mismatching.length === 0 && missing.length === 0) return `match ${rims.join(" + ")}`;
  const parts = [
    ...(mismatching.length === 0 ? [] : [`RIM indexes ${mismatching.join(", ")} do not match`]),
    ...(missing.length === 0 ? [] : [`RIM indexes ${missing.join(", ")} are missing`]),
  ];
  return `${parts.join("; ")} (${rims.join(" + ")})`;
}

function checkLines(checks: readonly Check[]): string[] {
  const width = Math.max(...checks.map((c) => c.code.length));
  return checks.map((c) => `  ${MARK[c.status]}  ${c.code.padEnd(width)}  ${c.message}`);
}

/** --nonce: the hex the verifier asked the device to sign (NVIDIA's verifiers: 32 bytes). */
export function gpuNonce(value: string): Uint8Array {
  const bytes = fromHex(value);
  if (bytes === undefined || bytes.length === 0) {
    throw new InvalidArgumentError("--nonce takes the nonce as hex (32 bytes for NVIDIA).");
  }
  return bytes;
}

const ARCHITECTURES: readonly NvidiaArchitecture[] = ["HOPPER", "BLACKWELL", "LS10"];

/** --gpu-arch, repeatable: HOPPER, BLACKWELL or LS10 (NVSwitch), in any case. */
export function gpuArch(
  value: string,
  previous: NvidiaArchitecture[] | undefined,
): NvidiaArchitecture[] {
  const arch = ARCHITECTURES.find((a) => a === value.toUpperCase());
  if (arch === undefined) {
    throw new InvalidArgumentError(`--gpu-arch takes ${ARCHITECTURES.join(", ")}.`);
  }
  return [...(previous ?? []), arch];
}
