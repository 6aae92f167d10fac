import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { chmod, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { attest, DEFAULT_POLICY, type Policy, simulatedRootId, toHex, utf8 } from "@cloister/core";
import {
  cloisterConfigDir,
  loadOrCreateSimulatedRoot,
  readSimulatedRoot,
  SIMULATED_ROOT_FILES,
  simulatedProvider,
  TeeError,
} from "../../src/tee/index.js";
import { tempDir } from "./temp.js";

const MEASUREMENT = "ab".repeat(48);
const REPORT_DATA = Uint8Array.from({ length: 64 }, (_, i) => i);
const NOW = new Date();

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

test("the config directory follows CLOISTER_HOME, then XDG_CONFIG_HOME, then ~/.config", () => {
  const home = () => "/home/ada";
  assert.equal(cloisterConfigDir({ CLOISTER_HOME: "/srv/c" }, home), "/srv/c");
  assert.equal(
    cloisterConfigDir({ CLOISTER_HOME: "", XDG_CONFIG_HOME: "/x" }, home),
    "/x/cloister",
  );
  // The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
  assert.equal(cloisterConfigDir({ XDG_CONFIG_HOME: "rel" }, home), "/home/ada/.config/cloister");
  assert.equal(cloisterConfigDir({}, home), "/home/ada/.config/cloister");
});

test("the simulated root is created with private modes on first use and reused after", async () => {
  const dir = join(await tempDir(), "nested", "cloister");
  const first = await loadOrCreateSimulatedRoot(dir);
  assert.equal(await modeOf(dir), 0o700);
  assert.equal(await modeOf(join(dir, SIMULATED_ROOT_FILES.privateJwk)), 0o600);
  const privateJwk = JSON.parse(await readFile(join(dir, SIMULATED_ROOT_FILES.privateJwk), "utf8"));
  assert.equal(privateJwk.crv, "P-384");
  assert.equal(typeof privateJwk.d, "string");
  const publicJwk = JSON.parse(await readFile(join(dir, SIMULATED_ROOT_FILES.publicJwk), "utf8"));
  assert.deepEqual(publicJwk, first.publicJwk);
  assert.equal("d" in publicJwk, false);
  assert.match(await readFile(first.pemPath, "utf8"), /^-----BEGIN PUBLIC KEY-----\n/);
  assert.match(first.instanceId, /^[0-9a-f]{64}$/);
  assert.equal(first.id, await simulatedRootId(first.publicJwk));

  const again = await loadOrCreateSimulatedRoot(dir);
  assert.equal(again.id, first.id);
  assert.equal(again.instanceId, first.instanceId);
  // No temporary files are left behind.
  assert.deepEqual((await readdir(dir)).sort(), Object.values(SIMULATED_ROOT_FILES).sort());
});

test("processes starting at once agree on one simulated root", async () => {
  const dir = await tempDir();
  const roots = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateSimulatedRoot(dir)));
  assert.equal(new Set(roots.map((r) => r.id)).size, 1);
  assert.equal(new Set(roots.map((r) => r.instanceId)).size, 1);
});

test("derived public files are rewritten when they disagree with the private key", async () => {
  const dir = await tempDir();
  const root = await loadOrCreateSimulatedRoot(dir);
  await writeFile(root.pemPath, "stale");
  await loadOrCreateSimulatedRoot(dir);
  assert.deepEqual(await readSimulatedRoot(root.pemPath), root.publicJwk);
});

test("a simulated root others can read is refused", async () => {
  const dir = await tempDir();
  await loadOrCreateSimulatedRoot(dir);
  await chmod(join(dir, SIMULATED_ROOT_FILES.privateJwk), 0o644);
  await assert.rejects(loadOrCreateSimulatedRoot(dir), {
    name: "TeeError",
    code: "tee.simulated_root_permissions",
  });
});

test("a corrupt simulated root is reported, not replaced", async () => {
  const dir = await tempDir();
  await loadOrCreateSimulatedRoot(dir);
  const path = join(dir, SIMULATED_ROOT_FILES.privateJwk);
  await writeFile(path, "{ not json");
  await assert.rejects(loadOrCreateSimulatedRoot(dir), { code: "tee.simulated_root_invalid" });
  assert.equal(await readFile(path, "utf8"), "{ not json");
});

async function provider() {
  return simulatedProvider({ configDir: await tempDir(), measurement: MEASUREMENT });
}

function allowing(root: JsonWebKey): Policy {
  return { platforms: ["simulated"], simulatedRoots: [root] };
}

test("simulated evidence verifies under a policy that pins its root, with an INSECURE warning", async () => {
  const p = await provider();
  assert.equal(p.platform, "simulated");
  assert.match(p.description, /INSECURE/);
  const { evidence, collateral } = await p.getEvidence(REPORT_DATA);
  assert.deepEqual(collateral, {});
  assert.equal(evidence.format, "simulated-jws");
  const result = await attest(evidence, allowing(p.root.publicJwk), {
    now: NOW,
    expectedReportData: REPORT_DATA,
  });
  assert.equal(result.verdict, "warning", JSON.stringify(result.checks));
  assert.equal(result.insecure, true);
  const status = (code: string) => result.checks.find((c) => c.code === code)?.status;
  assert.equal(status("platform.simulated"), "warn");
  assert.equal(status("evidence.signature"), "pass");
  assert.equal(status("binding.report_data"), "pass");
  assert.equal(result.claims?.measurement, MEASUREMENT);
  assert.equal(toHex(result.claims?.reportData ?? new Uint8Array()), toHex(REPORT_DATA));
  assert.equal(result.claims?.hardwareId, p.root.instanceId);
  assert.equal(result.claims?.trustAnchor.fingerprint, p.root.id);
  assert.equal(result.claims?.debug, false);
});

test("the default policy refuses simulated evidence", async () => {
  const p = await provider();
  const { evidence } = await p.getEvidence(REPORT_DATA);
  const result = await attest(evidence, DEFAULT_POLICY, { now: NOW });
  assert.equal(result.verdict, "contraindicated");
  assert.equal(result.checks.find((c) => c.code === "policy.platform")?.status, "fail");
});

test("simulated evidence from another root fails the trust anchor check", async () => {
  const p = await provider();
  const other = await loadOrCreateSimulatedRoot(await tempDir());
  const { evidence } = await p.getEvidence(REPORT_DATA);
  const result = await attest(evidence, allowing(other.publicJwk), { now: NOW });
  assert.equal(result.verdict, "contraindicated");
  assert.equal(result.checks.find((c) => c.code === "evidence.trust_anchor")?.status, "fail");
  assert.equal(result.claims, undefined);
});

test("tampering with any character of the payload is caught", async () => {
  const p = await provider();
  const { evidence } = await p.getEvidence(REPORT_DATA);
  const jws = new TextDecoder().decode(evidence.data);
  const [header, payload, signature] = jws.split(".") as [string, string, string];
  for (let i = 0; i < payload.length; i += 7) {
    const swapped = payload[i] === "A" ? "B" : "A";
    const tampered = `${header}.${payload.slice(0, i)}${swapped}${payload.slice(i + 1)}.${signature}`;
    const result = await attest({ ...evidence, data: utf8(tampered) }, allowing(p.root.publicJwk), {
      now: NOW,
    });
    assert.equal(result.verdict, "contraindicated", `position ${i}`);
    const failed = result.checks.filter((c) => c.status === "fail").map((c) => c.code);
    assert.ok(
      failed.includes("evidence.signature") || failed.includes("evidence.parse"),
      `position ${i}: ${failed.join(", ")}`,
    );
  }
});

test("report data must be exactly 64 bytes", async () => {
  const p = await provider();
  for (const length of [0, 32, 63, 65]) {
    await assert.rejects(p.getEvidence(new Uint8Array(length)), (error: unknown) => {
      assert.ok(error instanceof TeeError);
      assert.equal(error.code, "tee.report_data");
      assert.match(error.message, new RegExp(`not ${length} bytes`));
      return true;
    });
  }
});

test("the measurement must be a SHA-384 hex digest", async () => {
  const configDir = await tempDir();
  await assert.rejects(simulatedProvider({ configDir, measurement: "abc" }), {
    code: "tee.measurement",
  });
  const upper = await simulatedProvider({ configDir, measurement: MEASUREMENT.toUpperCase() });
  const { evidence } = await upper.getEvidence(REPORT_DATA);
  const result = await attest(evidence, allowing(upper.root.publicJwk), { now: NOW });
  assert.equal(result.claims?.measurement, MEASUREMENT);
});

test("readSimulatedRoot reads the PEM and the public JWK to the same key", async () => {
  const dir = await tempDir();
  const root = await loadOrCreateSimulatedRoot(dir);
  assert.deepEqual(await readSimulatedRoot(root.pemPath), root.publicJwk);
  const fromJwk = await readSimulatedRoot(join(dir, SIMULATED_ROOT_FILES.publicJwk));
  assert.equal(await simulatedRootId(fromJwk), root.id);
});

test("readSimulatedRoot refuses missing files, other curves and private keys", async () => {
  const dir = await tempDir();
  await assert.rejects(readSimulatedRoot(join(dir, "absent.pem")), {
    code: "tee.simulated_root_missing",
  });

  const p256 = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const p256Path = join(dir, "p256.pem");
  await writeFile(p256Path, p256.publicKey.export({ type: "spki", format: "pem" }));
  await assert.rejects(readSimulatedRoot(p256Path), { code: "tee.simulated_root_not_p384" });

  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const rsaPath = join(dir, "rsa.jwk");
  await writeFile(rsaPath, JSON.stringify(rsa.publicKey.export({ format: "jwk" })));
  await assert.rejects(readSimulatedRoot(rsaPath), { code: "tee.simulated_root_not_p384" });

  const root = await loadOrCreateSimulatedRoot(dir);
  const privatePath = join(dir, SIMULATED_ROOT_FILES.privateJwk);
  const { d } = JSON.parse(await readFile(privatePath, "utf8")) as { d: string };
  await assert.rejects(readSimulatedRoot(privatePath), (error) => {
    assert.ok(error instanceof TeeError);
    assert.equal(error.code, "tee.simulated_root_private");
    assert.equal(error.message.includes(d), false, "the message must not carry the key");
    return true;
  });
  const pkcs8Path = join(dir, "private.pem");
  await writeFile(pkcs8Path, root.privateKey.export({ type: "pkcs8", format: "pem" }));
  await assert.rejects(readSimulatedRoot(pkcs8Path), { code: "tee.simulated_root_private" });
  const sec1Path = join(dir, "private-sec1.pem");
  await writeFile(sec1Path, root.privateKey.export({ type: "sec1", format: "pem" }));
  await assert.rejects(readSimulatedRoot(sec1Path), { code: "tee.simulated_root_private" });

  const junk = join(dir, "junk.pem");
  await writeFile(junk, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  await assert.rejects(readSimulatedRoot(junk), { code: "tee.simulated_root_invalid" });
});
