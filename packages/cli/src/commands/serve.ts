import { readFile } from "node:fs/promises";
import {
  CloisterError,
  type Collateral,
  fromUtf8,
  NVIDIA_COLLATERAL,
  SNP_COLLATERAL,
  short,
} from "@cloister/core";
import type {
  Backend,
  DeviceKeyRelease,
  Engine,
  ModelKeyring,
  ModelTrustPolicy,
} from "@cloister/server";
import { cloisterConfigDir, detectGpus, type EvidenceProvider } from "@cloister/server/tee";
import { Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { fetchCollateral } from "../collateral/fetch.js";
import { readCertificates, readInput } from "../evidence-files.js";
import { forgetLocalServer, recordLocalServer } from "../local-server.js";
import { readPolicyFile } from "../policy-flags.js";
import { defaultDeviceRegistry } from "./device.js";
import { PUBLIC_GOOD_TRUSTED_ROOT } from "./model.js";

export function serveCommand(): Command {
  return new Command("serve")
    .description(
      "Run a Cloister workload: attested, end-to-end-encrypted OpenAI-compatible inference.",
    )
    .option(
      "--model <path>",
      "serve this model: a .gguf file, a directory holding one, or either encrypted by `cloister model encrypt` (repeatable; default: the embedded Moby-Dick demo model)",
      collect,
    )
    .option(
      "--model-signature <file>",
      "the model-signing bundle of the --model at the same position (default: <dir>/model.sig, else <path>.sig)",
      collect,
    )
    .option(
      "--trust-key <pub.pem>",
      "refuse to start unless every model is signed by this public key or another trusted signer (repeatable)",
      collect,
    )
    .option(
      "--trust-ca <ca.pem>",
      "accept models signed with a certificate chaining to this CA, root or intermediate (repeatable)",
      collect,
    )
    .option(
      "--trust-identity <id>",
      "accept models signed keyless by this Sigstore identity, with --trust-issuer (repeatable)",
      collect,
    )
    .option("--trust-issuer <url>", "the OIDC issuer of every --trust-identity")
    .option(
      "--trusted-root <file>",
      "Sigstore trusted_root.json for --trust-identity (default: the public-good instance)",
    )
    .option(
      "--decryption-key <file>",
      `a model key file for encrypted models (repeatable; also the JWK Set in $CLOISTER_MODEL_KEYS)`,
      collect,
    )
    .option(
      "--no-embeddings",
      "do not serve the embedded Universal Sentence Encoder embeddings model",
    )
    .option(
      "--upstream <url>",
      "front an OpenAI-compatible engine (vLLM, llama-server) running inside the same TEE instead",
    )
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--port <port>", "port to listen on (0 picks a free one)", integer, 8080)
    .option("--parallel <n>", "generations run at once", integer, 1)
    .option(
      "--max-waiting <n>",
      "requests that may wait for a free slot before the server answers busy",
      integer,
      64,
    )
    .option("--threads <n>", "CPU threads per model (default: chosen from the model size)", integer)
    .option(
      "--context <tokens>",
      "context window per sequence (default: the model's own, capped)",
      integer,
    )
    .addOption(
      new Option("--gpu <mode>", "use a GPU when present")
        .choices(["auto", "off"] as const)
        .default("auto" as const),
    )
    .option("--simulate", "use the simulated TEE even where hardware is available (INSECURE)")
    .addOption(
      new Option(
        "--gpus <mode>",
        "attest the machine's confidential GPUs with every bundle, bound into the CPU evidence (auto: when present and in CC mode)",
      )
        .choices(["auto", "off"] as const)
        .default("auto" as const),
    )
    .option(
      "--certs <file|dir>",
      "certificates to serve with the evidence so clients need not fetch them, e.g. the SEV-SNP VCEK when the host supplies none (PEM/DER; a directory means every such file in it; repeatable)",
      collect,
    )
    .option(
      "--fetch-collateral",
      "fetch verification collateral once at start-up (cached) and serve it with the evidence: SEV-SNP: the VCEK, chain and CRL from AMD KDS; TDX/SGX: TCB info, QE identity and CRLs from Intel PCS",
    )
    .option(
      "--device-key <file>",
      "offer this model key (a key file from `cloister model encrypt`) to edge devices that prove their firmware with a PSA token; enables /v1/devices/* (repeatable)",
      collect,
    )
    .option(
      "--device-registry <file>",
      "with --device-key: the enrolled device keys (`cloister device enroll`)",
    )
    .option(
      "--device-policy <file>",
      'with --device-key: the policy device tokens must meet (JSON; default {"platforms":["psa"]}: an enrolled IAK and the secured lifecycle)',
    )
    .option(
      "--gpu-rim <file>",
      "serve this NVIDIA driver or VBIOS RIM (signed SWID XML) so callers can compare the GPUs' measurements (repeatable)",
      collect,
    )
    .option(
      "--gpu-ocsp <file>",
      "serve this OCSP response (DER) for a GPU certificate so callers know it is not revoked (repeatable)",
      collect,
    )
    .option("--kds-url <url>", "with --fetch-collateral: an AMD KDS mirror")
    .option("--pccs <url>", "with --fetch-collateral: a PCCS (or PCS mirror) instead of Intel PCS")
    .option(
      "--insecure-plaintext",
      "ALSO serve the OpenAI routes unencrypted (development only: anyone on the path reads prompts)",
    )
    .option(
      "--replay-window <seconds>",
      "how far a request's date may be from this clock",
      integer,
      60,
    )
    .option(
      "--log-level <level>",
      "fatal, error, warn, info, debug (request logs at info; bodies are never logged)",
      "warn",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  cloister serve                          # the embedded demo models on 127.0.0.1:8080\n  cloister serve --model ./qwen2.5-0.5b-instruct-q4_k_m.gguf --port 9000\n  cloister serve --upstream http://127.0.0.1:8000   # front vLLM in the same TEE",
    )
    .action(async (options) => {
      const configDir = cloisterConfigDir();
      if (options.insecurePlaintext) {
        process.stderr.write(
          "WARNING: --insecure-plaintext serves prompts and completions UNENCRYPTED on /v1/*. Never use it in production.\n",
        );
      }
      // Loaded here, not at start-up: the engines are heavy and only `serve` needs them.
      const { startWorkload } = await import("@cloister/server");
      const backend = await loadBackend(options);
      const gpus = options.gpus === "off" ? undefined : await detectGpus();
      const workload = await startWorkload({
        backend,
        host: options.host,
        port: options.port,
        parallel: options.parallel,
        maxWaiting: options.maxWaiting,
        insecurePlaintext: options.insecurePlaintext === true,
        replayWindowMs: options.replayWindow * 1000,
        configDir,
        logger: { level: options.logLevel },
        preferSimulated: options.simulate === true,
        collateral: (provider) => operatorCollateral(provider, options, configDir),
        ...(options.deviceKey === undefined
          ? {}
          : { deviceRelease: await deviceRelease(options.deviceKey, options) }),
        ...(gpus === undefined ? {} : { gpus }),
      });
      await recordLocalServer(configDir, workload.url);
      const tee = workload.provider;
      const lines = [
        `Cloister ${workload.manifest.cloister} listening on ${workload.url}`,
        `  TEE       ${tee.description}`,
        `  GPUs      ${gpus === undefined ? "none attested (see cloister doctor)" : gpus.description}`,
        ...workload.manifest.models.map(
          (m) =>
            `  model     ${m.id} (${m.kind}) ${short(m.digest)}${m.signer === undefined ? "" : `  signed by ${m.signer}`}`,
        ),
        `  code      ${short(workload.manifest.code)}`,
        `  endpoint  ${workload.url}/v1/attestation (evidence + manifest), ${workload.url}/v1/ohttp (encrypted requests only)`,
        ...(options.deviceKey === undefined
          ? []
          : [
              `  devices   ${workload.url}/v1/devices/release: keys ${options.deviceKey.length} offered to enrolled PSA devices (${options.deviceRegistry ?? defaultDeviceRegistry()})`,
            ]),
        "",
        `Try:  npx cloister chat "Call me Ishmael"`,
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
      const stop = async () => {
        await workload.close();
        await forgetLocalServer(configDir);
        process.exit(0);
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
}

/** --device-key: attestation-gated release of model keys to enrolled PSA devices. */
async function deviceRelease(
  keyFiles: readonly string[],
  options: { deviceRegistry?: string; devicePolicy?: string },
): Promise<DeviceKeyRelease> {
  const { DeviceKeyRelease, modelKeyring, readModelKeyFile } = await import("@cloister/server");
  const keys = modelKeyring(await Promise.all(keyFiles.map(readModelKeyFile)));
  const policy =
    options.devicePolicy === undefined
      ? { platforms: ["psa" as const] }
      : await readPolicyFile(options.devicePolicy);
  return new DeviceKeyRelease({
    registryPath: options.deviceRegistry ?? defaultDeviceRegistry(),
    policy,
    keys,
  });
}

/**
 * --gpu-rim and --gpu-ocsp: NVIDIA-signed material callers need to appraise the GPUs (the driver
 * and VBIOS RIMs, OCSP responses for the device chains). NVIDIA signs both, so the workload may
 * carry them; it vouches for nothing by doing so.
 */
async function gpuCollateral(
  rims: readonly string[],
  ocsp: readonly string[],
): Promise<Collateral> {
  const collateral: Record<string, string> = {};
  if (rims.length > 0) {
    collateral[NVIDIA_COLLATERAL.rims] = JSON.stringify(
      await Promise.all(rims.map(async (path) => fromUtf8(await readInput(path, "RIM")))),
    );
  }
  if (ocsp.length > 0) {
    collateral[NVIDIA_COLLATERAL.ocsp] = JSON.stringify(
      await Promise.all(
        ocsp.map(async (path) =>
          Buffer.from(await readInput(path, "OCSP response")).toString("base64"),
        ),
      ),
    );
  }
  return collateral;
}

/** What `--certs` and `--fetch-collateral` add to every attestation bundle. */
async function operatorCollateral(
  provider: EvidenceProvider,
  options: {
    certs?: string[];
    gpuRim?: string[];
    gpuOcsp?: string[];
    fetchCollateral?: true;
    kdsUrl?: string;
    pccs?: string;
  },
  configDir: string,
): Promise<Collateral> {
  const collateral: Record<string, Uint8Array | string> = {
    ...(await gpuCollateral(options.gpuRim ?? [], options.gpuOcsp ?? [])),
  };
  const certificates = await readCertificates(options.certs ?? []);
  if (certificates !== undefined) collateral[SNP_COLLATERAL.certificates] = certificates;
  if (options.fetchCollateral !== true) return collateral;
  // KDS and PCS are asked by chip ID and TCB or by FMSPC, which only evidence tells: make one,
  // for no particular data.
  const { evidence } = await provider.getEvidence(new Uint8Array(64));
  const fetched = await fetchCollateral(evidence, collateral, {
    cacheDir: configDir,
    refresh: false,
    ...(options.kdsUrl === undefined ? {} : { kdsUrl: options.kdsUrl }),
    ...(options.pccs === undefined ? {} : { pccs: options.pccs }),
    log: (line: string) => process.stderr.write(`${line}\n`),
  });
  return { ...collateral, ...fetched };
}

async function loadBackend(options: {
  model?: string[];
  modelSignature?: string[];
  trustKey?: string[];
  trustCa?: string[];
  trustIdentity?: string[];
  trustIssuer?: string;
  trustedRoot?: string;
  decryptionKey?: string[];
  embeddings: boolean;
  upstream?: string;
  threads?: number;
  context?: number;
  gpu: "auto" | "off";
  parallel: number;
}): Promise<Backend> {
  if (options.upstream !== undefined) return { kind: "upstream", url: new URL(options.upstream) };
  const { DEFAULT_CHAT_MODEL_PATH, loadLlamaEngine, loadUseLiteEngine, prepareModel } =
    await import("@cloister/server");
  const trust = await modelTrust(options);
  const keys = await decryptionKeys(options.decryptionKey ?? []);
  const engines: Engine[] = [];
  for (const [i, path] of (options.model ?? [DEFAULT_CHAT_MODEL_PATH]).entries()) {
    const signature = options.modelSignature?.[i];
    const prepared = await prepareModel(
      { path, ...(signature === undefined ? {} : { signature }) },
      {
        ...(trust === undefined ? {} : { trust }),
        ...(keys === undefined ? {} : { keys }),
        // Inside a TEE the disk belongs to the host: a digest cache there could vouch for a
        // changed file, so the workload hashes every byte it is about to load.
        cache: false,
      },
    );
    try {
      engines.push(
        await loadLlamaEngine({
          modelPath: prepared.ggufPath,
          gpu: options.gpu === "off" ? false : "auto",
          parallel: options.parallel,
          ...(prepared.verified === undefined ? {} : { verified: prepared.verified }),
          ...(options.threads === undefined ? {} : { threads: options.threads }),
          ...(options.context === undefined ? {} : { contextSize: options.context }),
        }),
      );
    } finally {
      // A decrypted copy is removed once the engine has mapped it: the plaintext lives on only
      // in this process's memory.
      await prepared.dispose();
    }
  }
  if (options.embeddings) engines.push(await loadUseLiteEngine());
  return { kind: "engines", engines };
}

/** --trust-*: the signers a model must verify against before it loads (none: no requirement). */
async function modelTrust(options: {
  trustKey?: string[];
  trustCa?: string[];
  trustIdentity?: string[];
  trustIssuer?: string;
  trustedRoot?: string;
}): Promise<ModelTrustPolicy | undefined> {
  if (
    options.trustKey === undefined &&
    options.trustCa === undefined &&
    options.trustIdentity === undefined
  ) {
    return undefined;
  }
  if (options.trustIdentity !== undefined && options.trustIssuer === undefined) {
    throw new CloisterError("cli.usage", "--trust-identity needs --trust-issuer.");
  }
  const issuer = options.trustIssuer as string;
  return {
    ...(options.trustKey === undefined
      ? {}
      : { keys: await Promise.all(options.trustKey.map((p) => readFile(p, "utf8"))) }),
    ...(options.trustCa === undefined
      ? {}
      : { certificates: await Promise.all(options.trustCa.map((p) => readFile(p, "utf8"))) }),
    ...(options.trustIdentity === undefined
      ? {}
      : {
          sigstore: {
            trustedRoot: await readFile(options.trustedRoot ?? PUBLIC_GOOD_TRUSTED_ROOT),
            identities: options.trustIdentity.map((identity) => ({ identity, issuer })),
          },
        }),
  };
}

/** Model keys from --decryption-key files and $CLOISTER_MODEL_KEYS; undefined when none. */
async function decryptionKeys(files: readonly string[]): Promise<ModelKeyring | undefined> {
  const { modelKeyring, modelKeysFromEnv, readModelKeyFile } = await import("@cloister/server");
  const fromFiles = await Promise.all(files.map(readModelKeyFile));
  const all = [...fromFiles, ...modelKeysFromEnv().values()];
  return all.length === 0 ? undefined : modelKeyring(all);
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function integer(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new InvalidArgumentError(`"${value}" is not a non-negative integer.`);
  return n;
}
