import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { AttestationRefusedError, connect, GatewayError } from "@cloister/client";
import {
  DEFAULT_POLICY,
  fromBase64Url,
  MEDIA_TYPES,
  OHTTP_PATH,
  PROBLEMS,
  toBase64Url,
} from "@cloister/core";
import { startTestWorkload, type TestWorkload } from "./support/workload.js";

let t: TestWorkload;
before(async () => {
  t = await startTestWorkload();
});
after(() => t.close());

/** The parts of the bundle's JSON that the tests tamper with. */
interface TamperableBundle {
  evidence: { data: string };
  manifest: { ohttpKeys: string };
}

/** A fetch that lets a test play the network attacker on the attestation bundle. */
function tamperingFetch(tamper: (bundle: TamperableBundle) => void): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (!String(input instanceof Request ? input.url : input).includes("/v1/attestation"))
      return response;
    const bundle = (await response.json()) as TamperableBundle;
    tamper(bundle);
    return new Response(JSON.stringify(bundle), {
      status: 200,
      headers: { "content-type": "application/json" },
    });
  };
}

async function refusal(promise: Promise<unknown>): Promise<Map<string, string>> {
  const error = await promise.then(
    () => assert.fail("the connection should have been refused"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof AttestationRefusedError, String(error));
  assert.equal(error.result.verdict, "contraindicated");
  return new Map(
    error.result.checks.filter((c) => c.status === "fail").map((c) => [c.code, c.message]),
  );
}

test("tampered simulated evidence is refused: its signature no longer verifies", async () => {
  const failed = await refusal(
    connect(t.workload.url, {
      policy: t.policy,
      fetch: tamperingFetch((bundle) => {
        // Flip one bit of the signed payload (the measurement claim) and re-encode it.
        const [header, payload, signature] = String(
          Buffer.from(bundle.evidence.data, "base64url"),
        ).split(".");
        const claims = JSON.parse(Buffer.from(payload as string, "base64url").toString());
        claims.measurement = `${claims.measurement.startsWith("0") ? "1" : "0"}${claims.measurement.slice(1)}`;
        const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${signature}`;
        bundle.evidence.data = Buffer.from(forged).toString("base64url");
      }),
    }),
  );
  assert.match(failed.get("evidence.signature") ?? "", /signature does not verify/);
});

test("a manifest whose model digest differs from the policy's pin is refused", async () => {
  const pinned = `sha256:${"ab".repeat(32)}`;
  const failed = await refusal(
    connect(t.workload.url, { policy: { ...t.policy, workload: { modelDigests: [pinned] } } }),
  );
  assert.match(failed.get("policy.model_digest") ?? "", /Model bigram has digest sha256:.*not pin/);
});

test("evidence whose report_data does not bind the manifest is refused (a swapped OHTTP key)", async () => {
  const failed = await refusal(
    connect(t.workload.url, {
      policy: t.policy,
      fetch: tamperingFetch((bundle) => {
        // A relay substitutes its own key configuration to read the traffic.
        const keys = fromBase64Url(bundle.manifest.ohttpKeys) as Uint8Array;
        keys[5] = (keys[5] as number) ^ 0xff;
        bundle.manifest.ohttpKeys = toBase64Url(keys);
      }),
    }),
  );
  assert.match(failed.get("binding.report_data") ?? "", /does not bind the workload manifest/);
});

test("a simulated TEE is refused under the default policy", async () => {
  const failed = await refusal(connect(t.workload.url, { policy: DEFAULT_POLICY }));
  assert.match(
    failed.get("policy.platform") ?? "",
    /simulated TEE, which this policy does not accept/,
  );
});

test("a simulated TEE with a root the caller did not pin is refused", async () => {
  const otherRoot = { ...(t.policy.simulatedRoots?.[0] as JsonWebKey) };
  otherRoot.x = toBase64Url(crypto.getRandomValues(new Uint8Array(48)));
  const failed = await refusal(
    connect(t.workload.url, { policy: { platforms: ["simulated"], simulatedRoots: [otherRoot] } }),
  );
  assert.ok(
    failed.has("evidence.trust_anchor") || failed.has("policy.simulated_root"),
    [...failed.keys()].join(),
  );
});

test("a plaintext request to /v1/ohttp is refused without being processed", async () => {
  const response = await fetch(new URL(OHTTP_PATH, t.workload.url), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "bigram", messages: [{ role: "user", content: "hello" }] }),
  });
  assert.equal(response.status, 415);
  const problem = (await response.json()) as { type: string; detail: string };
  assert.equal(problem.type, PROBLEMS.notEncapsulated);
  assert.match(problem.detail, /plaintext requests are refused/);
  // And the plaintext OpenAI routes do not exist unless the operator turned them on.
  const plain = await fetch(new URL("/v1/chat/completions", t.workload.url), {
    method: "POST",
    body: "{}",
  });
  assert.equal(plain.status, 404);
});

test("a replayed encapsulated request is refused", async () => {
  let captured: { body: Uint8Array; type: string } | undefined;
  const recording: typeof fetch = async (input, init) => {
    if (String(input).endsWith(OHTTP_PATH)) {
      captured = {
        body: init?.body as Uint8Array,
        type: new Headers(init?.headers).get("content-type") as string,
      };
    }
    return fetch(input, init);
  };
  const session = await connect(t.workload.url, { policy: t.policy, fetch: recording });
  const first = await session.fetch(new URL("/v1/models", t.workload.url));
  assert.equal(first.status, 200);
  assert.equal(captured?.type, MEDIA_TYPES.request);
  const replay = await fetch(new URL(OHTTP_PATH, t.workload.url), {
    method: "POST",
    headers: { "content-type": captured?.type as string },
    body: captured?.body as Uint8Array<ArrayBuffer>,
  });
  assert.equal(replay.status, 400);
  const problem = (await replay.json()) as { type: string };
  assert.equal(problem.type, PROBLEMS.replayed);
});

test("the client reports a gateway refusal as a typed error", async () => {
  const session = await connect(t.workload.url, {
    policy: t.policy,
    // A relay that corrupts the ciphertext in flight.
    fetch: async (input, init) => {
      if (!String(input).endsWith(OHTTP_PATH)) return fetch(input, init);
      const body = new Uint8Array(init?.body as Uint8Array);
      body[body.length - 1] = (body[body.length - 1] as number) ^ 1;
      return fetch(input, { ...init, body });
    },
  });
  await assert.rejects(session.fetch(new URL("/v1/models", t.workload.url)), (error: unknown) => {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.problem.type, PROBLEMS.decryptFailed);
    return true;
  });
});
