import { createPrivateKey, createPublicKey } from "node:crypto";
import { readFile, stat, writeFile } from "node:fs/promises";
import { basename, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import {
  CloisterError,
  compareModelFiles,
  inspectModelSignature,
  type ModelVerification,
  signModel,
} from "@cloister/core";
import type { HashProgress, ModelTrustPolicy } from "@cloister/server";
import { Command } from "@commander-js/extra-typings";
import { byteProgress } from "../progress.js";
import { MARK } from "../report.js";
import { registerModelCrypto } from "./model-crypto.js";

/** The public-good Sigstore trusted root shipped with the server package (see its trust/README.md). */
export const PUBLIC_GOOD_TRUSTED_ROOT = fileURLToPath(
  import.meta.resolve("@cloister/server/trust/sigstore-public-good-trusted-root.json"),
);

export function modelCommand(): Command {
  const model = new Command("model").description(
    "Model integrity: sign and verify models (OpenSSF model-signing, compatible with the model_signing tool), inspect signatures, encrypt and decrypt weights.",
  );
  model.addCommand(signCommand()).addCommand(verifyCommand()).addCommand(inspectCommand());
  registerModelCrypto(model);
  return model;
}

/** model_signing's habit: model.sig inside a model directory; beside a single file here. */
export async function defaultBundle(path: string): Promise<string> {
  const info = await stat(path).catch(() => {
    throw new CloisterError("model.missing", `${path} does not exist.`);
  });
  return info.isDirectory() ? join(path, "model.sig") : `${path}.sig`;
}

function signCommand() {
  return new Command("sign")
    .description(
      "Sign a model file or directory with a private key (and optionally its certificate chain). The bundle is an OpenSSF model-signing v1.1 bundle the Python model_signing tool verifies.",
    )
    .argument("<path>", "the model file or directory")
    .requiredOption(
      "--key <key.pem>",
      "the signing key: an ECDSA P-256/P-384/P-521 private key (PKCS#8 or SEC1 PEM)",
    )
    .option(
      "--cert <chain.pem>",
      "sign with the certificate method: the signing certificate, then its intermediates (PEM; repeatable)",
      collect,
    )
    .option("--bundle <file>", "where to write the bundle (default: <dir>/model.sig or <file>.sig)")
    .option("--ignore-paths <path>", "leave this path out of the model (repeatable)", collect)
    .option("--allow-symlinks", "follow symbolic links to files (their targets are hashed)")
    .option("--no-cache", "re-read every file instead of trusting the digest cache")
    .option("--json", "print the result as JSON")
    .action(async (path, options) => {
      const root = resolve(path);
      const bundlePath = resolve(options.bundle ?? (await defaultBundle(root)));
      const { GIT_PATHS, hashModel } = await import("@cloister/server");
      const ignorePaths = [
        ...GIT_PATHS,
        ...(options.ignorePaths ?? []),
        ...inside(root, bundlePath),
      ];
      const hashed = await withProgress("hashing", (onProgress) =>
        hashModel(root, {
          ignorePaths,
          allowSymlinks: options.allowSymlinks === true,
          ...(options.cache === false ? { cache: false as const } : {}),
          onProgress,
        }),
      );
      const { key, publicKeyPem } = await signingKey(options.key);
      const bundle = await signModel({
        files: hashed.files,
        modelName: basename(root),
        key,
        identity:
          options.cert === undefined
            ? { method: "key", publicKeyPem }
            : { method: "certificate", certificateChain: await certificates(options.cert) },
        ignorePaths,
        allowSymlinks: options.allowSymlinks === true,
      });
      await writeFile(bundlePath, bundle);
      const summary = inspectModelSignature(bundle);
      if (options.json === true) {
        process.stdout.write(
          `${JSON.stringify({ bundle: bundlePath, method: summary.method, digest: summary.digest, files: hashed.files.length })}\n`,
        );
        return;
      }
      process.stdout.write(
        `Signed ${hashed.files.length} file(s) of ${root} (${summary.digest}) with the ${summary.method} method: ${bundlePath}\n`,
      );
    });
}

function verifyCommand() {
  return new Command("verify")
    .description(
      "Verify a model against its model-signing bundle: the signature under the key, CA or Sigstore identity you trust, and every file's digest. Exit status 0 only when verified.",
    )
    .argument("<path>", "the model file or directory")
    .option("--bundle <file>", "the signature bundle (default: <dir>/model.sig or <file>.sig)")
    .option("--key <pub.pem>", "trust this public key (the key method)")
    .option(
      "--ca <ca.pem>",
      "trust this CA certificate, root or intermediate (repeatable)",
      collect,
    )
    .option("--identity <id>", "trust this Sigstore signer (e-mail or URI), with --issuer")
    .option("--issuer <url>", "the OIDC issuer of --identity, e.g. https://accounts.google.com")
    .option(
      "--trusted-root <file>",
      "Sigstore trusted_root.json (default: the public-good instance, shipped with Cloister)",
    )
    .option("--ignore-paths <path>", "leave this path out of the model (repeatable)", collect)
    .option("--ignore-unsigned-files", "tolerate files that the bundle does not sign")
    .option("--no-cache", "re-read every file instead of trusting the digest cache")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      "\nExamples:\n  cloister model verify ./llama --key owner-pub.pem\n  cloister model verify ./llama --ca root-ca.pem --ca intermediate.pem\n  cloister model verify ./llama --identity owner@example.com --issuer https://accounts.google.com",
    )
    .action(async (path, options) => {
      const root = resolve(path);
      const bundle = resolve(options.bundle ?? (await defaultBundle(root)));
      const trust = await trustFromFlags(options);
      const { verifyModelFiles } = await import("@cloister/server");
      const verification = await withProgress("hashing", (onProgress) =>
        verifyModelFiles(root, {
          bundle,
          trust,
          ...(options.ignorePaths === undefined ? {} : { ignorePaths: options.ignorePaths }),
          ignoreUnsignedFiles: options.ignoreUnsignedFiles === true,
          ...(options.cache === false ? { cache: false as const } : {}),
          onProgress,
        }),
      );
      process.stdout.write(
        options.json === true
          ? `${JSON.stringify(verificationJson(root, bundle, verification), null, 2)}\n`
          : `${verificationReport(root, bundle, verification)}\n`,
      );
      if (!verification.verified) process.exitCode = 1;
    });
}

function inspectCommand() {
  return new Command("inspect")
    .description(
      "Show what a model-signing bundle signs and by whom (without verifying the signature), and whether the files on disk match it.",
    )
    .argument("<path>", "a model file or directory, or a bundle")
    .option(
      "--bundle <file>",
      "the bundle, when <path> is the model (default: model.sig / <file>.sig)",
    )
    .option("--json", "print the summary as JSON")
    .action(async (path, options) => {
      const target = resolve(path);
      const { model, bundle } = await inspectTargets(target, options.bundle);
      const text = await readFile(bundle, "utf8");
      const summary = inspectModelSignature(text);
      let files: ReturnType<typeof compareModelFiles> | undefined;
      if (model !== undefined) {
        const { hashModel } = await import("@cloister/server");
        const hashed = await withProgress("hashing", (onProgress) =>
          hashModel(model, {
            ignorePaths: [...summary.ignorePaths, ...inside(model, bundle)],
            allowSymlinks: summary.serialization.allowSymlinks,
            onProgress,
          }),
        );
        files = compareModelFiles(hashed.files, summary.resources);
      }
      if (options.json === true) {
        process.stdout.write(`${JSON.stringify({ bundle, ...summary, files }, null, 2)}\n`);
        return;
      }
      const signer =
        summary.method === "key"
          ? `public key${summary.keyHint === undefined ? "" : ` (hint ${summary.keyHint})`}`
          : ((summary.certificates[0]?.subjectAltNames.join(", ") ||
              summary.certificates[0]?.subject) ??
            "unknown");
      const lines = [
        `Bundle     ${bundle}`,
        `Method     ${summary.method} — signed by ${signer} (not verified: use \`cloister model verify\`)`,
        `Model      ${summary.subjectName}  ${summary.digest}`,
        `Files      ${summary.resources.length} signed${summary.ignorePaths.length > 0 ? `; ignored by the signer: ${summary.ignorePaths.join(", ")}` : ""}`,
        ...summary.resources.map((r) => `  ${r.digest}  ${r.name}`),
        ...summary.certificates.map(
          (c) =>
            `Certificate ${c.subject} (issuer ${c.issuer}, valid ${c.notBefore} to ${c.notAfter})`,
        ),
      ];
      if (files !== undefined) {
        lines.push(
          "",
          "Files on disk",
          ...files.map((c) => `  ${MARK[c.status]}  ${c.code}  ${c.message}`),
        );
      }
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}

/** The trust of `model verify`: exactly one method, as the model_signing tool asks. */
async function trustFromFlags(options: {
  key?: string;
  ca?: string[];
  identity?: string;
  issuer?: string;
  trustedRoot?: string;
}): Promise<ModelTrustPolicy> {
  const chosen = [options.key, options.ca, options.identity].filter((x) => x !== undefined);
  if (chosen.length !== 1) {
    throw new CloisterError(
      "cli.usage",
      "Give exactly one of --key PUB.pem, --ca CA.pem or --identity ID --issuer URL.",
    );
  }
  if (options.key !== undefined) return { keys: [await readText(options.key, "public key")] };
  if (options.ca !== undefined) return { certificates: await certificates(options.ca) };
  if (options.issuer === undefined) {
    throw new CloisterError("cli.usage", "--identity needs --issuer (the OIDC issuer URL).");
  }
  return {
    sigstore: {
      trustedRoot: await readFile(options.trustedRoot ?? PUBLIC_GOOD_TRUSTED_ROOT),
      identities: [{ identity: options.identity as string, issuer: options.issuer }],
    },
  };
}

export function verificationJson(model: string, bundle: string, v: ModelVerification) {
  return {
    model,
    bundle,
    verified: v.verified,
    method: v.method,
    signer: v.signer,
    digest: v.digest,
    reasons: v.checks.filter((c) => c.status === "fail"),
    checks: v.checks,
    files: v.resources.length,
  };
}

function verificationReport(model: string, bundle: string, v: ModelVerification): string {
  const width = Math.max(...v.checks.map((c) => c.code.length));
  return [
    `Model      ${model}`,
    `Bundle     ${bundle}`,
    `Verdict    ${v.verified ? "verified" : "NOT verified"}`,
    ...(v.signer === undefined ? [] : [`Signer     ${v.signer}`]),
    ...(v.digest === undefined ? [] : [`Digest     ${v.digest}`]),
    "",
    ...v.checks.map((c) => `  ${MARK[c.status]}  ${c.code.padEnd(width)}  ${c.message}`),
  ].join("\n");
}

async function inspectTargets(
  target: string,
  bundleFlag: string | undefined,
): Promise<{ model?: string; bundle: string }> {
  if (bundleFlag !== undefined) return { model: target, bundle: resolve(bundleFlag) };
  const info = await stat(target).catch(() => {
    throw new CloisterError("model.missing", `${target} does not exist.`);
  });
  if (!info.isDirectory() && (await looksLikeBundle(target))) return { bundle: target };
  return { model: target, bundle: await defaultBundle(target) };
}

async function looksLikeBundle(path: string): Promise<boolean> {
  try {
    const head = (await readFile(path)).subarray(0, 4096).toString("utf8");
    return head.trimStart().startsWith("{") && head.includes("application/vnd.dev.sigstore.bundle");
  } catch {
    return false;
  }
}

/** The path of `file` relative to a model directory that contains it, so it can be ignored. */
function inside(root: string, file: string): string[] {
  const rel = relative(root, file);
  return rel === "" || rel.startsWith("..") || isAbsolute(rel) ? [] : [rel.split(sep).join("/")];
}

async function signingKey(path: string): Promise<{ key: CryptoKey; publicKeyPem: string }> {
  let jwk: JsonWebKey;
  let publicKeyPem: string;
  try {
    const privateKey = createPrivateKey(await readText(path, "signing key"));
    jwk = privateKey.export({ format: "jwk" }) as JsonWebKey;
    publicKeyPem = createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString();
  } catch (error) {
    if (error instanceof CloisterError) throw error;
    throw new CloisterError("model.sign.key", `${path} is not a PEM private key.`);
  }
  if (jwk.kty !== "EC" || !["P-256", "P-384", "P-521"].includes(jwk.crv ?? "")) {
    throw new CloisterError(
      "model.sign.key",
      `${path} is not an ECDSA P-256, P-384 or P-521 key, which model_signing requires.`,
    );
  }
  const key = await crypto.subtle.importKey(
    "jwk",
    jwk,
    { name: "ECDSA", namedCurve: jwk.crv as string },
    false,
    ["sign"],
  );
  return { key, publicKeyPem };
}

/** PEM certificates from files, each file holding one or more. */
async function certificates(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const path of paths) {
    const text = await readText(path, "certificate");
    const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
    if (blocks === null) {
      throw new CloisterError("model.certificate.file", `${path} holds no PEM certificate.`);
    }
    out.push(...blocks.map((b) => `${b}\n`));
  }
  return out;
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch {
    throw new CloisterError("cli.file", `Cannot read the ${what} ${path}.`);
  }
}

/** Runs a hashing job with a progress display on stderr. */
async function withProgress<T>(
  label: string,
  job: (onProgress: (p: HashProgress) => void) => Promise<T>,
): Promise<T> {
  const progress = byteProgress({ label });
  try {
    return await job((p) => progress.update(p.bytesDone, p.bytesTotal));
  } finally {
    progress.stop();
  }
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
