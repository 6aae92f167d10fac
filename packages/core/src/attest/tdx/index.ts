export * from "./ccel.js";
export type { EventLogClaim, TdxPlatformClaims } from "./claims.js";
export {
  type CcelEvent,
  type DigestAlgorithm,
  decodeEfiVariable,
  type EfiVariable,
  EV,
  type EventLog,
  eventTypeName,
  type MeasurementRegister,
  parseEventLog,
  type SpecIdEvent,
  TCG_ALG,
} from "./event-log.js";
export * from "./replay.js";
