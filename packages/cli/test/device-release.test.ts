import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { DeviceReleaseRefusedError, requestDeviceKey } from "@cloister/client";
import {
  CHALLENGE_PATH,
  type Policy,
  RELEASE_PATH,
  RELEASE_PROBLEMS,
  toBase64Url,
} from "@cloister/core";
import {
  DEFAULT_CHAT_MODEL_PATH,
  DeviceKeyRelease,
  decryptModelFile,
  encryptModelFile,
  enrollDevice,
  generateModelKey,
  listDevices,
  ModelKey,
  modelKeyring,
} from "@cloister/server";
import { startTestWorkload, type TestWorkload } from "../../client/test/support/workload.js";
import { simulatedRot, TFM_TEST_IAK } from "../src/device/simulated-rot.js";

/**
 * Edge key release end to end, over real sockets: a workload offering a model key, a registry
 * with TF-M's test IAK enrolled, and a simulated TF-M device that signs real PSA tokens.
 */

const KEY_ID = "edge-model-2026";
const MODEL_KEY = generateModelKey(KEY_ID);
const SPE = "96a2ec56c65120a60ce3a53ef8d2082233772aacd5b17935a92be12ac577f685";
const NSPE = "087d13c68f32aaafb8c4fc0a2253445432009765e216fb85c398c9580522c1bf";
const POLICY: Policy = {
  platforms: ["psa"],
  psa: {
    requireSecuredLifecycle: true,
    implementationIds: ["aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccdddddddddddddddd"],
    softwareComponents: [
      { measurementType: "SPE", measurementValue: SPE },
      { measurementType: "NSPE", measurementValue: NSPE },
    ],
  },
};

let dir: string;
let t: TestWorkload;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloister-devices-"));
  const registryPath = join(dir, "devices.json");
  const { x, y, crv } = TFM_TEST_IAK;
  await enrollDevice(registryPath, { kty: "EC", crv, x, y } as JsonWebKey, { label: "tf-m" });
  t = await startTestWorkload({
    engines: [],
    deviceRelease: new DeviceKeyRelease({
      registryPath,
      policy: POLICY,
      keys: modelKeyring([MODEL_KEY]),
    }),
  });
});

after(async () => {
  await t.close();
  await rm(dir, { recursive: true, force: true });
});

async function refusal(promise: Promise<unknown>): Promise<DeviceReleaseRefusedError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof DeviceReleaseRefusedError, String(error));
    return error;
  }
  assert.fail("the key was released");
}

const codes = (e: DeviceReleaseRefusedError) => e.reasons.map((r) => r.code);

test("enrollment derives TF-M's instance ID from its IAK", async () => {
  const [device] = await listDevices(join(dir, "devices.json"));
  assert.equal(
    device?.instanceId,
    "01fa58755f658627ce5460f29b75296713248cae7ad9e2984b90280efcbcb50248",
  );
});

test("a device with the expected firmware gets the key, and it decrypts the owner's encrypted model", async () => {
  // The model owner encrypted the real demo model; only a released copy of the key opens it.
  const encrypted = join(dir, "moby-dick-char.gguf.cenc");
  await encryptModelFile(DEFAULT_CHAT_MODEL_PATH, encrypted, { key: MODEL_KEY });

  const released = await requestDeviceKey(t.workload.url, {
    keyId: KEY_ID,
    attest: await simulatedRot(),
  });
  assert.equal(released.keyId, KEY_ID);
  const decrypted = join(dir, "moby-dick-char.gguf");
  await decryptModelFile(encrypted, decrypted, {
    keys: modelKeyring([new ModelKey(released.keyId, released.key)]),
  });
  assert.deepEqual(await readFile(decrypted), await readFile(DEFAULT_CHAT_MODEL_PATH));
});

test("a token over another nonce gets nothing: the binding check says why", async () => {
  const error = await refusal(
    requestDeviceKey(t.workload.url, {
      keyId: KEY_ID,
      attest: await simulatedRot({ nonceOverride: new Uint8Array(32).fill(7) }),
    }),
  );
  assert.equal(error.status, 403);
  assert.deepEqual(codes(error), ["binding.report_data"]);
  assert.match(error.message, /release challenge and the device's public key/);
});

test("a RoT that is not in the secured lifecycle gets nothing", async () => {
  const error = await refusal(
    requestDeviceKey(t.workload.url, {
      keyId: KEY_ID,
      attest: await simulatedRot({ lifecycle: "non-psa-rot-debug" }),
    }),
  );
  assert.ok(codes(error).includes("psa.policy.lifecycle"), codes(error).join());
});

test("changed firmware (another SPE measurement) gets nothing", async () => {
  const error = await refusal(
    requestDeviceKey(t.workload.url, {
      keyId: KEY_ID,
      attest: await simulatedRot({
        measurements: new Map([["SPE", new Uint8Array(32).fill(0xee)]]),
      }),
    }),
  );
  assert.deepEqual(codes(error), ["psa.policy.sw_component"]);
});

test("a device whose instance is not enrolled gets nothing", async () => {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const error = await refusal(
    requestDeviceKey(t.workload.url, {
      keyId: KEY_ID,
      attest: await simulatedRot({ iak: privateKey.export({ format: "jwk" }) as JsonWebKey }),
    }),
  );
  assert.deepEqual(codes(error), ["psa.key.unknown_instance"]);
});

test("a challenge is good for one release only, whatever the outcome", async () => {
  const attest = await simulatedRot();
  const challenge = (await (
    await fetch(new URL(CHALLENGE_PATH, t.workload.url), { method: "POST" })
  ).json()) as { challengeId: string; challenge: string };
  const body = JSON.stringify({
    challengeId: challenge.challengeId,
    token: toBase64Url(await attest(new Uint8Array(32))),
    publicKey: toBase64Url(new Uint8Array(32).fill(9)),
    keyId: KEY_ID,
  });
  const post = () =>
    fetch(new URL(RELEASE_PATH, t.workload.url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
  const first = (await (await post()).json()) as { reasons: { code: string }[] };
  assert.deepEqual(
    first.reasons.map((r) => r.code),
    ["binding.report_data"],
  );
  const second = await post();
  assert.equal(second.status, 403);
  const problem = (await second.json()) as { type: string; reasons: { code: string }[] };
  assert.equal(problem.type, RELEASE_PROBLEMS.refused);
  assert.deepEqual(
    problem.reasons.map((r) => r.code),
    ["device.release.challenge"],
  );
});

test("an unknown key id is refused after attestation, and says so", async () => {
  const error = await refusal(
    requestDeviceKey(t.workload.url, { keyId: "no-such-key", attest: await simulatedRot() }),
  );
  assert.equal(error.status, 404);
  assert.deepEqual(codes(error), ["device.release.unknown_key"]);
});

test("a malformed request is a 400 problem naming the field", async () => {
  const response = await fetch(new URL(RELEASE_PATH, t.workload.url), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ challengeId: "x", token: "", publicKey: "", keyId: KEY_ID }),
  });
  assert.equal(response.status, 400);
  const problem = (await response.json()) as { type: string; detail: string };
  assert.equal(problem.type, RELEASE_PROBLEMS.malformed);
  assert.match(problem.detail, /challengeId/);
});

test("the release policy and key ids are part of the workload's configuration digest", async () => {
  const plain = await startTestWorkload({ engines: [] });
  try {
    assert.notEqual(plain.workload.manifest.config, t.workload.manifest.config);
  } finally {
    await plain.close();
  }
});
