import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ATTESTATION_PATH, NVIDIA_COLLATERAL, parseBundle } from "@cloister/core";
import { TESTVECTORS } from "../../core/test/support/testvectors.js";
import { startLongRunning, stopLongRunning } from "./support/cloister-cli.js";

// `serve --gpu-rim` and `--gpu-ocsp` put NVIDIA-signed appraisal material into every bundle,
// in the collateral names callers read (nvidia_rims, nvidia_ocsp).

let home: string;
before(async () => {
  home = await mkdtemp(join(tmpdir(), "cloister-gpu-collateral-"));
});
after(() => rm(home, { recursive: true, force: true }));

test("the RIMs and OCSP responses given to serve travel in the bundle", async () => {
  const rim = join(TESTVECTORS, "nvidia/nvtrust-h100-sample/Driver_RIM_test_no_gpu.swidtag");
  const ocsp = join(home, "response.der");
  await writeFile(ocsp, new Uint8Array([0x30, 0x03, 0x0a, 0x01, 0x00]));
  const { child, match } = await startLongRunning(
    [
      "serve",
      "--port",
      "0",
      "--no-embeddings",
      "--gpus",
      "off",
      "--gpu-rim",
      rim,
      "--gpu-ocsp",
      ocsp,
    ],
    home,
    /listening on (http:\/\/\S+)/,
  );
  try {
    const bundle = parseBundle(
      await (await fetch(new URL(ATTESTATION_PATH, match[1] as string))).json(),
    );
    assert.deepEqual(JSON.parse(bundle.collateral[NVIDIA_COLLATERAL.rims] as string), [
      await readFile(rim, "utf8"),
    ]);
    assert.deepEqual(JSON.parse(bundle.collateral[NVIDIA_COLLATERAL.ocsp] as string), ["MAMKAQA="]);
  } finally {
    await stopLongRunning(child);
  }
});
