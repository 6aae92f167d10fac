import { readFile } from "node:fs/promises";
import {
  type Check,
  CloisterError,
  type NrasEat,
  toHex,
  verdictOf,
  verifyNrasToken,
} from "@cloister/core";
import { MARK } from "../report.js";

/** An NVIDIA NRAS result (remote verification): the overall EAT and the per-GPU tokens. */
export interface NrasEvidenceFile {
  readonly form: string;
  readonly nras: NrasEat;
}

export interface NrasVerifyFlags {
  readonly jwks?: string;
  readonly nonce?: Uint8Array;
  readonly now?: Date;
  readonly json?: boolean;
}

/** The flags an NRAS token reads; any other is refused rather than ignored. */
const NRAS_FLAGS = new Set(["jwks", "nonce", "now", "json"]);

/**
 * `cloister attest verify` for an NRAS result, when the operator chose NVIDIA's remote
 * verification: the tokens' ES384 signatures with the JWKS supplied offline (NRAS's published
 * keys, fetched beforehand), issuer, time window, the nonce, and each GPU's results.
 */
export async function verifyNrasFile(
  path: string,
  file: NrasEvidenceFile,
  options: NrasVerifyFlags & Record<string, unknown>,
): Promise<void> {
  const extra = Object.keys(options).filter((k) => options[k] !== undefined && !NRAS_FLAGS.has(k));
  if (extra.length > 0) {
    throw new CloisterError(
      "input.flag_unsupported",
      `${extra.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(", ")} do(es) not apply to an NRAS token; it reads --jwks, --nonce and --now.`,
    );
  }
  if (options.jwks === undefined || options.nonce === undefined) {
    throw new CloisterError(
      "nvidia.nras.input",
      "An NRAS token is verified with NRAS's signing keys (--jwks FILE, a JWKS fetched beforehand) and the nonce sent with the evidence (--nonce HEX).",
    );
  }
  let jwks: unknown;
  try {
    jwks = JSON.parse(await readFile(options.jwks, "utf8"));
  } catch {
    throw new CloisterError("nvidia.nras.jwks", `${options.jwks} is not a readable JWKS (JSON).`);
  }
  const now = options.now ?? new Date();
  let checks: readonly Check[];
  let submodules: { name: string; driverVersion?: string; vbiosVersion?: string }[] = [];
  try {
    const verified = await verifyNrasToken(file.nras, {
      jwks: jwks as Parameters<typeof verifyNrasToken>[1]["jwks"],
      now,
      nonce: toHex(options.nonce),
    });
    checks = verified.checks;
    submodules = verified.submodules.map(({ name, driverVersion, vbiosVersion }) => ({
      name,
      ...(driverVersion === undefined ? {} : { driverVersion }),
      ...(vbiosVersion === undefined ? {} : { vbiosVersion }),
    }));
  } catch (error) {
    if (!(error instanceof CloisterError)) throw error;
    checks = [{ code: error.code, status: "fail", message: error.message }];
  }
  const status = verdictOf(checks);
  const reasons = checks.filter((c) => c.status === "fail" || c.status === "warn");
  if (options.json === true) {
    process.stdout.write(
      `${JSON.stringify({ evidence: path, form: file.form, status, reasons, checks, claims: { submodules } }, null, 2)}\n`,
    );
  } else {
    const width = Math.max(...checks.map((c) => c.code.length));
    process.stdout.write(
      `${[
        `Evidence   ${path} (${file.form})`,
        `Verdict    ${status}`,
        ...submodules.map(
          (s) => `  ${s.name}: driver ${s.driverVersion ?? "?"}, VBIOS ${s.vbiosVersion ?? "?"}`,
        ),
        "",
        ...checks.map((c) => `  ${MARK[c.status]}  ${c.code.padEnd(width)}  ${c.message}`),
      ].join("\n")}\n`,
    );
  }
  process.exitCode = status === "affirming" ? 0 : 1;
}
