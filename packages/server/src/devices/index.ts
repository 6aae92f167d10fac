export * from "./release.js";
export {
  DEVICE_REGISTRY_INVALID,
  type EnrolledDevice,
  type EnrollOptions,
  enrollDevice,
  listDevices,
  readDeviceRegistry,
} from "./registry.js";
