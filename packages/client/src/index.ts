export { type FetchAttestationOptions, fetchAttestation } from "./attestation.js";
export { AttestationRefusedError, GatewayError } from "./errors.js";
export { type ConnectOptions, connect, Session } from "./session.js";
