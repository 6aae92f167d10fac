import { createPrivateKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { requestDeviceKey } from "@cloister/client";
import {
  CloisterError,
  fromHex,
  PSA_LIFECYCLE_STATES,
  type PsaLifecycleState,
  sha256,
  toHex,
} from "@cloister/core";
import { cloisterConfigDir } from "@cloister/server/tee";
import { Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { simulatedRot, TFM_TEST_IAK } from "../device/simulated-rot.js";

/** Where enrolled devices are kept unless --registry says otherwise; `serve` reads the same file. */
export function defaultDeviceRegistry(): string {
  return join(cloisterConfigDir(), "devices.json");
}

export function deviceCommand(): Command {
  return new Command("device")
    .description(
      "Edge devices with a PSA root of trust (Arm TrustZone, TF-M): enroll their attestation keys, and try key release from a simulated device.",
    )
    .addCommand(enrollCommand())
    .addCommand(listCommand())
    .addCommand(releaseCommand());
}

function enrollCommand() {
  return new Command("enroll")
    .description(
      "Register a device's Initial Attestation Key (IAK) so that its PSA tokens verify. The instance ID is derived from the key as TF-M does unless given.",
    )
    .argument("[key]", "the IAK's public key: PEM (SPKI) or an EC JWK file")
    .option("--registry <file>", "the device registry", defaultDeviceRegistry())
    .option("--instance-id <hex>", "the device's instance ID (33 bytes, 01…), if its RoT differs")
    .option("--label <text>", "a name for the device")
    .option("--replace", "replace the key of an instance already enrolled")
    .option(
      "--tfm-test-key",
      "enroll TF-M's published test IAK (INSECURE: anyone can sign with it)",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  cloister device enroll iak-pub.pem --label gateway-17\n  cloister device enroll --tfm-test-key   # to try `cloister device release` locally",
    )
    .action(async (keyFile, options) => {
      const { enrollDevice } = await import("@cloister/server");
      let key: string | JsonWebKey;
      if (options.tfmTestKey === true) {
        if (keyFile !== undefined) throw usage("Give a key file or --tfm-test-key, not both.");
        process.stderr.write(
          "WARNING: enrolling TF-M's published test key. Anyone can sign tokens with it: never do this on a production server.\n",
        );
        key = { kty: "EC", crv: TFM_TEST_IAK.crv, x: TFM_TEST_IAK.x, y: TFM_TEST_IAK.y };
      } else if (keyFile === undefined) {
        throw usage("Give the IAK's public key file (PEM or JWK), or --tfm-test-key.");
      } else {
        key = await readKey(keyFile);
      }
      const device = await enrollDevice(options.registry, key, {
        ...(options.instanceId === undefined ? {} : { instanceId: options.instanceId }),
        ...(options.label === undefined ? {} : { label: options.label }),
        replace: options.replace === true,
      });
      process.stdout.write(
        `Enrolled instance ${device.instanceId}${device.label === undefined ? "" : ` (${device.label})`} in ${options.registry}\n`,
      );
    });
}

function listCommand() {
  return new Command("list")
    .description("Show the enrolled devices.")
    .option("--registry <file>", "the device registry", defaultDeviceRegistry())
    .option("--json", "print the registry entries as JSON")
    .action(async (options) => {
      const { listDevices } = await import("@cloister/server");
      const devices = await listDevices(options.registry);
      if (options.json === true) {
        process.stdout.write(`${JSON.stringify(devices, null, 2)}\n`);
        return;
      }
      if (devices.length === 0) {
        process.stdout.write(`No devices enrolled in ${options.registry}.\n`);
        return;
      }
      for (const d of devices) {
        process.stdout.write(
          `${d.instanceId}  ${d.key.crv}  enrolled ${d.enrolledAt}${d.label === undefined ? "" : `  ${d.label}`}\n`,
        );
      }
    });
}

function releaseCommand() {
  return new Command("release")
    .description(
      "Act as an edge device (a simulated TF-M root of trust): attest to a server with a PSA token and receive a model key sealed to this device. Options change the simulated firmware to show what the server refuses.",
    )
    .argument("<url>", "the Cloister server")
    .requiredOption("--key-id <id>", "the model key to ask for")
    .option("--out <file>", "write the released key there as a key file (mode 0600)")
    .option("--iak <file>", "the device's IAK private key (PKCS#8 PEM); default TF-M's test key")
    .addOption(
      new Option("--lifecycle <state>", "the security lifecycle the RoT reports")
        .choices(PSA_LIFECYCLE_STATES)
        .default("secured" as PsaLifecycleState),
    )
    .option(
      "--measurement <type=hex>",
      "report another measurement for a firmware component (SPE or NSPE); repeatable",
      collectMeasurement,
    )
    .option("--nonce <hex>", "sign this nonce instead of the challenge's (the server must refuse)")
    .option("--json", "print the outcome as JSON")
    .addHelpText(
      "after",
      "\nExamples:\n  cloister device release http://127.0.0.1:8080 --key-id model-2026 --out model.key\n  cloister device release http://127.0.0.1:8080 --key-id model-2026 --lifecycle non-psa-rot-debug",
    )
    .action(async (url, options) => {
      const attest = await simulatedRot({
        ...(options.iak === undefined ? {} : { iak: await readPrivateKey(options.iak) }),
        lifecycle: options.lifecycle,
        ...(options.measurement === undefined ? {} : { measurements: options.measurement }),
        ...(options.nonce === undefined ? {} : { nonceOverride: hexArgument(options.nonce) }),
      });
      const { keyId, key } = await requestDeviceKey(url, { keyId: options.keyId, attest });
      // A fingerprint lets two parties compare keys without showing them.
      const fingerprint = toHex(await sha256(key)).slice(0, 16);
      if (options.out !== undefined) {
        const { createModelKeyFile, ModelKey } = await import("@cloister/server");
        await createModelKeyFile(options.out, new ModelKey(keyId, key));
      }
      if (options.json === true) {
        process.stdout.write(
          `${JSON.stringify({ keyId, fingerprint, ...(options.out === undefined ? {} : { out: options.out }) })}\n`,
        );
        return;
      }
      process.stdout.write(
        `Released key ${keyId} (SHA-256 ${fingerprint}…)${options.out === undefined ? "" : `, written to ${options.out}`}\n`,
      );
    });
}

async function readKey(path: string): Promise<string | JsonWebKey> {
  const text = await readText(path);
  return text.trimStart().startsWith("{") ? (JSON.parse(text) as JsonWebKey) : text;
}

async function readPrivateKey(path: string): Promise<JsonWebKey> {
  try {
    const jwk = createPrivateKey(await readText(path)).export({ format: "jwk" });
    if (jwk.kty !== "EC" || jwk.crv !== "P-256") throw new Error("not P-256");
    return jwk as JsonWebKey;
  } catch (error) {
    if (error instanceof CloisterError) throw error;
    throw new CloisterError("device.iak", `${path} is not an ECDSA P-256 private key in PEM.`);
  }
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch {
    throw new CloisterError("device.file", `Cannot read ${path}.`);
  }
}

function collectMeasurement(
  value: string,
  previous: Map<string, Uint8Array> | undefined,
): Map<string, Uint8Array> {
  const [type, hex] = value.split("=", 2);
  if (type === undefined || hex === undefined) {
    throw new InvalidArgumentError('Expected TYPE=HEX, e.g. "SPE=96a2…".');
  }
  return new Map([...(previous ?? []), [type, hexArgument(hex)]]);
}

function hexArgument(text: string): Uint8Array {
  const bytes = fromHex(text);
  if (bytes === undefined || ![32, 48, 64].includes(bytes.length)) {
    throw new InvalidArgumentError("Expected the hex of 32, 48 or 64 bytes.");
  }
  return bytes;
}

function usage(message: string): CloisterError {
  return new CloisterError("cli.usage", message);
}
