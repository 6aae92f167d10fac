import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { attest, PSA_COLLATERAL, PSA_TOKEN_FORMAT, parsePsaToken } from "@cloister/core";
import { TESTVECTORS } from "../../core/test/support/testvectors.js";
import { simulatedRot } from "../src/device/simulated-rot.js";

test("the simulated RoT signs with TF-M's test IAK: its tokens verify with TF-M's published public key", async () => {
  const nonce = crypto.getRandomValues(new Uint8Array(32));
  const token = await (await simulatedRot())(nonce);
  const result = await attest(
    { platform: "psa", format: PSA_TOKEN_FORMAT, data: token },
    { platforms: ["psa"] },
    {
      now: new Date(),
      collateral: {
        [PSA_COLLATERAL.endorsements]: readFileSync(join(TESTVECTORS, "psa/tf-m/public.pem")),
      },
      expectedReportData: new Uint8Array([...nonce, ...new Uint8Array(32)]),
    },
  );
  assert.equal(result.verdict, "affirming", JSON.stringify(result.checks));
  // Its claims are those of TF-M's example token, with the nonce asked for.
  const example = parsePsaToken(
    new Uint8Array(readFileSync(join(TESTVECTORS, "psa/tf-m/psa-2_0_0_sign1.bin"))),
  ).claims;
  const claims = parsePsaToken(token).claims;
  assert.deepEqual(claims.instanceId, example.instanceId);
  assert.deepEqual(claims.implementationId, example.implementationId);
  assert.deepEqual(claims.softwareComponents, example.softwareComponents);
  assert.deepEqual(claims.nonce, nonce);
});
