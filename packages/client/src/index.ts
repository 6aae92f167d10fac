export { type FetchAttestationOptions, fetchAttestation } from "./attestation.js";
export {
  type DeviceReleaseOptions,
  DeviceReleaseRefusedError,
  requestDeviceKey,
} from "./device-release.js";
export { AttestationRefusedError, GatewayError } from "./errors.js";
export { type ConnectOptions, connect, Session } from "./session.js";
