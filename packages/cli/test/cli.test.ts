import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import OpenAI from "openai";
import { type Run, runCloister, startLongRunning } from "./support/cloister-cli.js";

let home: string;
let server: ChildProcess;
let url: string;

/** Runs `cloister <args>` as a user would; resolves with its exit code and output. */
function cloister(...args: string[]): Promise<Run> {
  return runCloister(args, home);
}

before(async () => {
  home = await mkdtemp(join(tmpdir(), "cloister-cli-home-"));
  // The README's quick start: the embedded demo models on the simulated TEE.
  const started = await startLongRunning(
    ["serve", "--port", "0"],
    home,
    /listening on (http:\/\/\S+)/,
  );
  server = started.child;
  url = started.match[1] as string;
});

after(async () => {
  server.kill("SIGTERM");
  await new Promise((resolve) => server.once("exit", resolve));
  await rm(home, { recursive: true, force: true });
});

test('`cloister chat "Call me Ishmael"` prints the verification summary, INSECURE, and a streamed completion', async () => {
  const { code, stdout, stderr } = await cloister("chat", "Call me Ishmael", "--max-tokens", "40");
  assert.equal(code, 0, stderr);
  assert.match(
    stderr,
    /verified simulated \(INSECURE: simulated TEE, nothing is protected by hardware\)/,
  );
  assert.match(
    stderr,
    /measurement [0-9a-f]{16}… · model moby-dick-char sha256:[0-9a-f]{9}… · verdict warning/,
  );
  assert.match(stderr, /receipt #\d+ verified/);
  assert.ok(stdout.trim().length > 10, `a completion was printed: ${JSON.stringify(stdout)}`);
  assert.match(stdout, /^[\x20-\x7e\n\r\t’‘“”—-]+$/u);
});

test("with no --url the CLI finds the server this machine runs", async () => {
  const state = JSON.parse(await readFile(join(home, "server.json"), "utf8")) as { url: string };
  assert.equal(state.url, url);
});

test("`cloister attest --json` gives the full per-check verdict", async () => {
  const { code, stdout } = await cloister("attest", url, "--json");
  assert.equal(code, 0);
  const result = JSON.parse(stdout) as {
    verdict: string;
    insecure: boolean;
    checks: { code: string; status: string }[];
    manifest: { models: { id: string }[] };
  };
  assert.equal(result.verdict, "warning");
  assert.equal(result.insecure, true);
  assert.deepEqual(
    result.manifest.models.map((m) => m.id),
    ["moby-dick-char", "use-lite-512"],
  );
  for (const check of ["binding.nonce", "binding.report_data", "evidence.signature"]) {
    assert.equal(result.checks.find((c) => c.code === check)?.status, "pass", check);
  }
});

test("a simulated workload is refused (exit 1) when this machine's root is not trusted", async () => {
  const { code, stdout } = await cloister("attest", url, "--no-local-root");
  assert.equal(code, 1);
  assert.match(stdout, /Verdict +contraindicated/);
  assert.match(stdout, /✘ fail +policy\.platform/);
  const chat = await cloister("chat", "hello", "--no-local-root");
  assert.equal(chat.code, 1);
  assert.match(chat.stderr, /attestation was refused.*\[attestation\.refused\]/);
  assert.equal(chat.stdout, "");
});

test("--allow-simulated with the server's root PEM is accepted explicitly", async () => {
  const { code, stdout } = await cloister(
    "attest",
    url,
    "--no-local-root",
    "--allow-simulated",
    join(home, "simulated-root.pem"),
  );
  assert.equal(code, 0);
  assert.match(stdout, /INSECURE/);
});

test("`cloister proxy` serves a plaintext loopback endpoint the openai client uses unchanged", async () => {
  const { child, match } = await startLongRunning(
    ["proxy", "--listen", "127.0.0.1:0"],
    home,
    /proxy listening on (http:\/\/\S+)\/v1/,
  );
  try {
    const openai = new OpenAI({ baseURL: `${match[1]}/v1`, apiKey: "unused" });
    const reply = await openai.chat.completions.create({
      messages: [{ role: "user", content: "Call me Ishmael" }],
      model: "moby-dick-char",
      max_tokens: 20,
    });
    assert.ok((reply.choices[0]?.message.content ?? "").length > 0);
    const embeddings = await openai.embeddings.create({
      model: "use-lite-512",
      input: "white whale",
    });
    assert.equal(embeddings.data[0]?.embedding.length, 512);
  } finally {
    child.kill("SIGTERM");
  }
  const refused = await cloister("proxy", "--listen", "0.0.0.0:0");
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /Refusing to listen on 0\.0\.0\.0/);
});

test("`cloister doctor` says which TEE interface would be used", async () => {
  const { code, stdout } = await cloister("doctor");
  assert.equal(code, 0);
  assert.match(stdout, /cloister serve would use: (simulated|configfs-tsm|gramine)/);
  const json = JSON.parse((await cloister("doctor", "--json")).stdout) as {
    simulated: { rootExists: boolean };
  };
  assert.equal(json.simulated.rootExists, true);
});

test("every command explains itself with --help", async () => {
  for (const command of [
    ["serve"],
    ["chat"],
    ["attest"],
    ["proxy"],
    ["doctor"],
    ["model", "sign"],
    ["model", "verify"],
    ["model", "inspect"],
    ["model", "encrypt"],
    ["model", "decrypt"],
    ["device", "enroll"],
    ["device", "list"],
    ["device", "release"],
  ]) {
    const { code, stdout } = await cloister(...command, "--help");
    assert.equal(code, 0);
    assert.match(stdout, new RegExp(`Usage: cloister ${command.join(" ")}`));
  }
});

test("a policy file that cannot be read is a clear error, not a crash", async () => {
  const missing = await cloister("attest", url, "--policy", join(home, "no-such-policy.json"));
  assert.equal(missing.code, 1);
  assert.match(
    missing.stderr,
    /Could not read the policy file .*no-such-policy\.json as JSON\. \[policy\.file\]/,
  );
  const badNonce = await cloister("attest", url, "--nonce", "zz");
  assert.notEqual(badNonce.code, 0);
  assert.match(badNonce.stderr, /The nonce must be 8 to 64 bytes of hex/);
});
