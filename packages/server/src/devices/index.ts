export {
  DEVICE_REGISTRY_INVALID,
  type EnrolledDevice,
  type EnrollOptions,
  enrollDevice,
  listDevices,
  readDeviceRegistry,
} from "./registry.js";
export * from "./release.js";
