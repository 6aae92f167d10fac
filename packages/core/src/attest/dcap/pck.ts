import {
  Boolean as Asn1Boolean,
  type BaseBlock,
  Enumerated,
  fromBER,
  Integer,
  ObjectIdentifier,
  OctetString,
  Sequence,
} from "asn1js";
import { toHex } from "../../bytes.js";
import { ParseError } from "../../errors.js";
import type { X509Certificate } from "../pki/x509.js";

/**
 * What Intel certifies about a platform in its PCK certificate: the SGX extension
 * 1.2.840.113741.1.13.1 (Intel "SGX PCK Certificate and Certificate Revocation List Profile
 * Specification"), a SEQUENCE of SEQUENCE { OID, value }. The FMSPC selects the TCB info to
 * evaluate against, and the TCB (16 CPUSVN components and the PCESVN) is the level Intel issued
 * the key for. Nothing read here is trusted until the chain check has verified the certificate.
 */

export type SgxType = "Standard" | "Scalable" | "ScalableWithIntegrity";

/** Platform CA certificates only: how the platform was provisioned. Each flag is optional. */
export interface PckConfiguration {
  readonly dynamicPlatform?: boolean;
  readonly cachedKeys?: boolean;
  readonly smtEnabled?: boolean;
}

export interface PckExtensions {
  /** Platform Provisioning ID, 16 bytes (encrypted by Intel; an identifier, not a secret). */
  readonly ppid: Uint8Array;
  /** The CPUSVN the key was issued at, 16 bytes as the certificate holds them. */
  readonly cpuSvn: Uint8Array;
  /** The same CPUSVN as 16 components (SGX TCB comp 01..16), compared against the TCB info. */
  readonly cpuSvnComponents: readonly number[];
  readonly pceSvn: number;
  /** 2 bytes, lower-case hex. */
  readonly pceId: string;
  /** 6 bytes, lower-case hex (TCB info often spells it in upper case). */
  readonly fmspc: string;
  readonly sgxType: SgxType;
  /** Platform CA certificates only, 16 bytes. */
  readonly platformInstanceId?: Uint8Array;
  /** Platform CA certificates only. */
  readonly configuration?: PckConfiguration;
}

const SGX = "1.2.840.113741.1.13.1";
const TCB = `${SGX}.2`;
const CONFIGURATION = `${SGX}.7`;

export const PCK_OIDS = {
  sgxExtension: SGX,
  ppid: `${SGX}.1`,
  tcb: TCB,
  pceSvn: `${TCB}.17`,
  cpuSvn: `${TCB}.18`,
  pceId: `${SGX}.3`,
  fmspc: `${SGX}.4`,
  sgxType: `${SGX}.5`,
  platformInstanceId: `${SGX}.6`,
  configuration: CONFIGURATION,
  dynamicPlatform: `${CONFIGURATION}.1`,
  cachedKeys: `${CONFIGURATION}.2`,
  smtEnabled: `${CONFIGURATION}.3`,
} as const;

const CODE = "dcap.pck.extension";

const SGX_TYPES: readonly SgxType[] = ["Standard", "Scalable", "ScalableWithIntegrity"];

/** Reads the SGX extension of a PCK certificate; anything missing or malformed is a ParseError. */
export function readPckExtensions(certificate: X509Certificate): PckExtensions {
  const [extension, ...others] = certificate.extensions.filter((e) => e.type === SGX);
  if (extension === undefined) {
    malformed(SGX, "the certificate lacks the SGX extension: it is not a PCK certificate");
  }
  if (others.length > 0) malformed(SGX, "the SGX extension appears more than once");
  const fields = fieldsOf(decode(new Uint8Array(extension.value)), SGX);
  const tcb = fieldsOf(required(fields, TCB, "TCB"), TCB);
  const cpuSvnComponents = Array.from({ length: 16 }, (_, i) =>
    integer(required(tcb, `${TCB}.${i + 1}`, `CPUSVN component ${i + 1}`), `${TCB}.${i + 1}`, 255),
  );
  const platformInstanceId = fields.get(PCK_OIDS.platformInstanceId);
  const configuration = fields.get(CONFIGURATION);
  return {
    ppid: octets(required(fields, PCK_OIDS.ppid, "PPID"), PCK_OIDS.ppid, 16),
    cpuSvn: octets(required(tcb, PCK_OIDS.cpuSvn, "CPUSVN"), PCK_OIDS.cpuSvn, 16),
    cpuSvnComponents,
    pceSvn: integer(required(tcb, PCK_OIDS.pceSvn, "PCESVN"), PCK_OIDS.pceSvn, 0xffff),
    pceId: toHex(octets(required(fields, PCK_OIDS.pceId, "PCE-ID"), PCK_OIDS.pceId, 2)),
    fmspc: toHex(octets(required(fields, PCK_OIDS.fmspc, "FMSPC"), PCK_OIDS.fmspc, 6)),
    sgxType: sgxType(required(fields, PCK_OIDS.sgxType, "SGX type")),
    ...(platformInstanceId === undefined
      ? {}
      : {
          platformInstanceId: octets(platformInstanceId, PCK_OIDS.platformInstanceId, 16),
        }),
    ...(configuration === undefined ? {} : { configuration: readConfiguration(configuration) }),
  };
}

function malformed(oid: string, message: string): never {
  throw new ParseError(CODE, oid, message);
}

/** The extension value must be exactly one DER value: trailing bytes are malformed. */
function decode(bytes: Uint8Array): BaseBlock {
  const { offset, result } = fromBER(bytes);
  if (offset === -1 || offset !== bytes.length) {
    malformed(SGX, "the extension value is not one well-formed DER value");
  }
  return result;
}

/**
 * A SEQUENCE of SEQUENCE { OID, value }, by OID. OIDs Intel may add later are kept but unread; an
 * OID that appears twice makes the certificate ambiguous, so it is refused.
 */
function fieldsOf(node: BaseBlock, oid: string): Map<string, BaseBlock> {
  if (!(node instanceof Sequence)) malformed(oid, "the value is not a SEQUENCE");
  const fields = new Map<string, BaseBlock>();
  for (const entry of node.valueBlock.value) {
    const [name, value, ...rest] = entry instanceof Sequence ? entry.valueBlock.value : [];
    if (!(name instanceof ObjectIdentifier) || value === undefined || rest.length > 0) {
      malformed(oid, "an entry is not a SEQUENCE of an OBJECT IDENTIFIER and one value");
    }
    const id = name.getValue();
    if (fields.has(id)) malformed(id, "the field appears more than once");
    fields.set(id, value);
  }
  return fields;
}

function required(fields: Map<string, BaseBlock>, oid: string, name: string): BaseBlock {
  const value = fields.get(oid);
  if (value === undefined) malformed(oid, `the SGX extension lacks the ${name} field`);
  return value;
}

function octets(node: BaseBlock, oid: string, length: number): Uint8Array {
  if (!(node instanceof OctetString) || node.idBlock.isConstructed) {
    malformed(oid, "the value is not an OCTET STRING");
  }
  const bytes = new Uint8Array(node.valueBlock.valueHexView);
  if (bytes.length !== length) {
    malformed(oid, `the OCTET STRING holds ${bytes.length} bytes, not ${length}`);
  }
  return bytes;
}

/** An SVN: a non-negative INTEGER no larger than `max` (255 for a CPUSVN component). */
function integer(node: BaseBlock, oid: string, max: number): number {
  if (!(node instanceof Integer) || node instanceof Enumerated) {
    malformed(oid, "the value is not an INTEGER");
  }
  const value = node.toBigInt();
  if (value < 0n || value > BigInt(max)) malformed(oid, `the value ${value} is outside 0..${max}`);
  return Number(value);
}

function sgxType(node: BaseBlock): SgxType {
  const oid = PCK_OIDS.sgxType;
  if (!(node instanceof Enumerated)) malformed(oid, "the SGX type is not an ENUMERATED");
  const value = node.toBigInt();
  const type =
    value >= 0n && value < BigInt(SGX_TYPES.length) ? SGX_TYPES[Number(value)] : undefined;
  if (type === undefined) malformed(oid, `the SGX type ${value} is none of 0, 1 and 2`);
  return type;
}

function readConfiguration(node: BaseBlock): PckConfiguration {
  const fields = fieldsOf(node, CONFIGURATION);
  const flag = (oid: string): boolean | undefined => {
    const value = fields.get(oid);
    if (value === undefined) return undefined;
    if (!(value instanceof Asn1Boolean)) malformed(oid, "the value is not a BOOLEAN");
    return value.getValue();
  };
  const dynamicPlatform = flag(PCK_OIDS.dynamicPlatform);
  const cachedKeys = flag(PCK_OIDS.cachedKeys);
  const smtEnabled = flag(PCK_OIDS.smtEnabled);
  return {
    ...(dynamicPlatform === undefined ? {} : { dynamicPlatform }),
    ...(cachedKeys === undefined ? {} : { cachedKeys }),
    ...(smtEnabled === undefined ? {} : { smtEnabled }),
  };
}
