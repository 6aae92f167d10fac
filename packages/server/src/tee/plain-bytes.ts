/**
 * A plain Uint8Array view of bytes Node returned as a Buffer, so evidence never carries Buffer's
 * behaviour (its JSON form, its pooled slices) past the provider. No copy is made.
 */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
