import {
  CHALLENGE_PATH,
  CloisterError,
  generateDeviceKeyPair,
  parseReleaseChallenge,
  parseReleasedKey,
  RELEASE_PATH,
  type ReleaseReason,
  releaseNonce,
  toBase64Url,
  unwrapReleasedKey,
} from "@cloister/core";

export interface DeviceReleaseOptions {
  /** The model key the device asks for. */
  readonly keyId: string;
  /**
   * Asks the device's PSA root of trust for an attestation token over `nonce` (32 bytes), e.g.
   * psa_initial_attest_get_token() on TF-M.
   */
  readonly attest: (nonce: Uint8Array) => Promise<Uint8Array>;
  readonly fetch?: typeof fetch;
}

/** The server refused to release the key; `reasons` are the checks that failed. */
export class DeviceReleaseRefusedError extends CloisterError {
  readonly status: number;
  readonly reasons: readonly ReleaseReason[];

  constructor(status: number, reasons: readonly ReleaseReason[], detail?: string) {
    super(
      "device.release.refused",
      `The server refused to release the key (${status}): ${
        reasons.map((r) => `${r.message} [${r.code}]`).join(" ") || detail || "no reason given."
      }`,
    );
    this.status = status;
    this.reasons = reasons;
  }
}

/**
 * The device side of edge key release (cloister/edge-release/v1): get a challenge, make a
 * one-time key pair, have the RoT attest to both, and open the key the server seals to it.
 * The key exists in the clear only here and inside the server.
 */
export async function requestDeviceKey(
  serverUrl: string | URL,
  options: DeviceReleaseOptions,
): Promise<{ readonly keyId: string; readonly key: Uint8Array }> {
  const fetchFn = options.fetch ?? fetch;
  const challengeResponse = await fetchFn(new URL(CHALLENGE_PATH, serverUrl), { method: "POST" });
  if (challengeResponse.status === 404) {
    throw new CloisterError(
      "device.release.unavailable",
      `${new URL(serverUrl).origin} does not offer device key release (it is enabled with \`cloister serve --device-key\`).`,
    );
  }
  if (challengeResponse.status !== 201) throw await refusal(challengeResponse);
  const challenge = parseReleaseChallenge(await challengeResponse.json());
  const device = await generateDeviceKeyPair();
  const token = await options.attest(await releaseNonce(challenge.challenge, device.publicKey));
  const response = await fetchFn(new URL(RELEASE_PATH, serverUrl), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      challengeId: challenge.challengeId,
      token: toBase64Url(token),
      publicKey: toBase64Url(device.publicKey),
      keyId: options.keyId,
    }),
  });
  if (response.status !== 200) throw await refusal(response);
  const released = parseReleasedKey(await response.json());
  if (released.keyId !== options.keyId) {
    throw new CloisterError(
      "device.release.key_id",
      `The server released key ${released.keyId}, not the ${options.keyId} asked for.`,
    );
  }
  return {
    keyId: released.keyId,
    key: await unwrapReleasedKey(released, device, challenge.challengeId),
  };
}

async function refusal(response: Response): Promise<DeviceReleaseRefusedError> {
  let body: { reasons?: unknown; detail?: unknown } = {};
  try {
    body = (await response.json()) as typeof body;
  } catch {
    // Not a problem document: the status says enough.
  }
  const reasons = Array.isArray(body.reasons)
    ? body.reasons.filter(
        (r): r is ReleaseReason =>
          typeof r === "object" &&
          r !== null &&
          typeof (r as ReleaseReason).code === "string" &&
          typeof (r as ReleaseReason).message === "string",
      )
    : [];
  return new DeviceReleaseRefusedError(
    response.status,
    reasons,
    typeof body.detail === "string" ? body.detail : undefined,
  );
}
