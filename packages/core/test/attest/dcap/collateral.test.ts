import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  collateralFromParts,
  DCAP_COLLATERAL_BUNDLE_FORMAT,
  type DcapCollateral,
  encodeCollateralBundle,
  parseCollateralBundle,
} from "../../../src/attest/dcap/collateral.js";
import { ParseError } from "../../../src/errors.js";
import { vectorEntry } from "../../support/testvectors.js";
import { dcapVectorFiles, readVector } from "./collateral-vectors.js";

const text = (path: string) => new TextDecoder().decode(readVector(path));
const utf8 = (s: string) => new TextEncoder().encode(s);

/** The dcap-qvl QuoteCollateralV3 files of the corpus. */
const DCAP_QVL = dcapVectorFiles().filter((path) => {
  try {
    return "tcb_info" in JSON.parse(text(path));
  } catch {
    return false;
  }
});

function malformed(field: RegExp) {
  return (error: unknown) =>
    error instanceof ParseError &&
    error.code === "dcap.collateral.malformed" &&
    field.test(error.field);
}

describe("dcap-qvl QuoteCollateralV3", () => {
  test("the corpus holds the three dcap-qvl collateral files", () => {
    assert.deepEqual(DCAP_QVL, [
      "sgx/dcap-qvl/sgx_quote_collateral.json",
      "tdx/dcap-qvl-outdated/tdx_quote_outdated_collateral.json",
      "tdx/dcap-qvl-uptodate/tdx_quote_collateral.json",
    ]);
  });

  for (const path of DCAP_QVL) {
    test(`${path}: the signed bytes are the JSON strings, CRLs the hex DER`, () => {
      const json = JSON.parse(text(path)) as Record<string, string>;
      for (const input of [text(path), readVector(path)]) {
        const collateral = parseCollateralBundle(input);
        assert.deepEqual(collateral.tcbInfo.signedBytes, utf8(json.tcb_info as string));
        assert.deepEqual(collateral.qeIdentity.signedBytes, utf8(json.qe_identity as string));
        assert.equal(
          Buffer.from(collateral.tcbInfo.signature).toString("hex"),
          json.tcb_info_signature,
        );
        assert.equal(
          Buffer.from(collateral.qeIdentity.signature).toString("hex"),
          json.qe_identity_signature,
        );
        assert.equal(Buffer.from(collateral.pckCrl ?? []).toString("hex"), json.pck_crl);
        assert.equal(Buffer.from(collateral.rootCrl ?? []).toString("hex"), json.root_ca_crl);
        assert.equal(collateral.tcbSigningChain.match(/BEGIN CERTIFICATE/g)?.length, 2);
        assert.equal(collateral.pckCrlIssuerChain?.match(/BEGIN CERTIFICATE/g)?.length, 2);
        // The rebuilt PCS body holds the signed string verbatim.
        assert.ok(collateral.tcbInfo.text.startsWith(`{"tcbInfo":${json.tcb_info},"signature":"`));
      }
    });
  }

  test("byte arrays are accepted where dcap-qvl allows number[]", () => {
    const path = DCAP_QVL[0] as string;
    const json = JSON.parse(text(path)) as Record<string, unknown>;
    const asArray = (hex: string) => [...Buffer.from(hex, "hex")];
    const variant = {
      ...json,
      pck_crl: asArray(json.pck_crl as string),
      tcb_info_signature: asArray(json.tcb_info_signature as string),
    };
    assert.deepEqual(
      parseCollateralBundle(JSON.stringify(variant)),
      parseCollateralBundle(text(path)),
    );
  });

  test("missing or bad members are named", () => {
    const json = JSON.parse(text(DCAP_QVL[0] as string)) as Record<string, unknown>;
    const without = (name: string) => JSON.stringify({ ...json, [name]: undefined });
    assert.throws(
      () => parseCollateralBundle(without("tcb_info_signature")),
      malformed(/^tcb_info_signature$/),
    );
    assert.throws(() => parseCollateralBundle(without("qe_identity")), malformed(/^qe_identity$/));
    assert.throws(
      () => parseCollateralBundle(without("tcb_info_issuer_chain")),
      malformed(/^tcb_info_issuer_chain$/),
    );
    const shortSig = JSON.stringify({ ...json, qe_identity_signature: "00".repeat(63) });
    assert.throws(() => parseCollateralBundle(shortSig), malformed(/^qe_identity_signature$/));
    const notJson = JSON.stringify({ ...json, tcb_info: '{"id":"TDX"' });
    assert.throws(() => parseCollateralBundle(notJson), malformed(/^tcb_info$/));
    const badCrl = JSON.stringify({ ...json, pck_crl: "3082ffff00" });
    assert.throws(() => parseCollateralBundle(badCrl), malformed(/^pck_crl$/));
  });
});

/** The index entries that ship PCS files, with their signing chain. */
const PCS_SETS = [
  {
    id: "tdx/go-tdx-guest-spr-v4",
    chain: "tdx/go-tdx-guest-spr-v4/tcb_info_issuer_chain.pem",
    pckCrl: "tdx/go-tdx-guest-spr-v4/pckcrl.der",
    rootCrl: "tdx/go-tdx-guest-spr-v4/rootcrl.der",
    pckCrlIssuerChain: "tdx/go-tdx-guest-spr-v4/pck_crl_issuer_chain.pem",
  },
  { id: "tdx/go-tdx-guest-v5", chain: "tdx/go-tdx-guest-spr-v4/tcb_info_issuer_chain.pem" },
  {
    id: "tdx/trustee-quote6",
    chain: "tdx/automata-pcs-certs/Intel_SGX_TCB_Signing_2025.der",
    rootCrl: "tdx/automata-pcs-certs/Intel_SGX_Root_CA_crl_2025-03.der",
  },
  {
    id: "tdx/automata-gcp-v4",
    chain: "tdx/automata-pcs-certs/Intel_SGX_TCB_Signing_2025.der",
    pckCrl: "tdx/automata-gcp-v4/pck_platform_crl_2025-06.der",
  },
  { id: "tdx/automata-alibaba-v5", chain: "tdx/automata-pcs-certs/Intel_SGX_TCB_Signing_2025.der" },
  {
    id: "sgx/automata-azure-v3",
    chain: "tdx/automata-pcs-certs/Intel_SGX_TCB_Signing_2025.der",
    pckCrl: "sgx/automata-azure-v3/pck_platform_crl_2025-08.der",
  },
];

function fromPcsSet(set: (typeof PCS_SETS)[number]): DcapCollateral {
  const files = vectorEntry(set.id).files;
  return collateralFromParts({
    tcbInfo: readVector(files.tcb_info as string),
    qeIdentity: readVector(files.qe_identity as string),
    tcbSigningChain: readVector(set.chain),
    ...(set.pckCrl === undefined ? {} : { pckCrl: readVector(set.pckCrl) }),
    ...(set.rootCrl === undefined ? {} : { rootCrl: readVector(set.rootCrl) }),
    ...(set.pckCrlIssuerChain === undefined
      ? {}
      : { pckCrlIssuerChain: text(set.pckCrlIssuerChain) }),
  });
}

describe("PCS files", () => {
  for (const set of PCS_SETS) {
    test(`${set.id}: the signed bytes are the exact tcbInfo / enclaveIdentity value`, () => {
      const files = vectorEntry(set.id).files;
      const collateral = fromPcsSet(set);
      for (const [signed, path, key] of [
        [collateral.tcbInfo, files.tcb_info, "tcbInfo"],
        [collateral.qeIdentity, files.qe_identity, "enclaveIdentity"],
      ] as const) {
        const raw = text(path as string);
        assert.equal(signed.text, raw);
        const value = new TextDecoder().decode(signed.signedBytes);
        assert.ok(raw.startsWith(`{"${key}":${value},"signature":"`), "the value is the substring");
        assert.deepEqual(JSON.parse(value), JSON.parse(raw)[key]);
        assert.equal(
          Buffer.from(signed.signature).toString("hex"),
          (JSON.parse(raw) as { signature: string }).signature,
        );
      }
      if (set.pckCrl !== undefined) assert.deepEqual(collateral.pckCrl, readVector(set.pckCrl));
      if (set.rootCrl !== undefined) assert.deepEqual(collateral.rootCrl, readVector(set.rootCrl));
    });
  }

  test("whitespace around the members does not move the signed bytes; inside it is kept", () => {
    const files = vectorEntry("tdx/automata-gcp-v4").files;
    const raw = text(files.tcb_info as string);
    const signed = collateralFromParts({
      ...chainOnly(),
      tcbInfo: raw,
      qeIdentity: text(files.qe_identity as string),
    });
    const { signature } = JSON.parse(raw) as { signature: string };
    const value = new TextDecoder().decode(signed.tcbInfo.signedBytes);
    const pretty = `\uFEFF{\n  "signature" : "${signature}" ,\r\n\t"tcbInfo"   :\n ${value}\n}\n`;
    const reparsed = collateralFromParts({ tcbInfo: pretty }, signed);
    assert.deepEqual(reparsed.tcbInfo.signedBytes, signed.tcbInfo.signedBytes);
    // A name written with a JSON escape is the same name, as JSON.parse reads it.
    const escaped = raw.replace('{"tcbInfo"', '{"\\u0074cbInfo"');
    assert.deepEqual(
      collateralFromParts({ tcbInfo: escaped }, signed).tcbInfo.signedBytes,
      signed.tcbInfo.signedBytes,
    );
    // Whitespace inside the value is part of the signed bytes.
    const spaced = raw.replace('"version":3', '"version": 3');
    const inner = new TextDecoder().decode(
      collateralFromParts({ tcbInfo: spaced }, signed).tcbInfo.signedBytes,
    );
    assert.ok(inner.includes('"version": 3'));
  });

  test("a document naming its signed member twice is refused", () => {
    const files = vectorEntry("tdx/automata-gcp-v4").files;
    const raw = text(files.tcb_info as string);
    const twice = raw.replace('{"tcbInfo":', '{"tcbInfo":{"id":"TDX"},"tcbInfo":');
    assert.throws(
      () =>
        collateralFromParts({
          ...chainOnly(),
          tcbInfo: twice,
          qeIdentity: text(files.qe_identity as string),
        }),
      malformed(/^tcbInfo\.tcbInfo$/),
    );
  });

  test("bad PCS documents are named", () => {
    const files = vectorEntry("tdx/automata-gcp-v4").files;
    const good = fromPcsSet(PCS_SETS[3] as (typeof PCS_SETS)[number]);
    const qe = text(files.qe_identity as string);
    assert.throws(
      () => collateralFromParts({ qeIdentity: qe.replace("enclaveIdentity", "enclave") }, good),
      malformed(/^qeIdentity\.enclaveIdentity$/),
    );
    assert.throws(
      () =>
        collateralFromParts(
          { qeIdentity: qe.replace(/"signature":"[0-9a-f]{2}/, '"signature":"') },
          good,
        ),
      malformed(/^qeIdentity\.signature$/),
    );
    assert.throws(() => collateralFromParts({ tcbInfo: "{" }, good), malformed(/^tcbInfo$/));
    assert.throws(
      () => collateralFromParts({ tcbInfo: new Uint8Array([0x7b, 0xff, 0x7d]) }, good),
      malformed(/^tcbInfo$/),
    );
    assert.throws(
      () => collateralFromParts({ tcbInfo: text(files.tcb_info as string) }),
      malformed(/^qeIdentity$/),
    );
  });

  test("the TCB signing chain: PEM, the PCS header's URL-encoded PEM, or DER", () => {
    const pem = text("tdx/go-tdx-guest-spr-v4/tcb_info_issuer_chain.pem");
    const base = fromPcsSet(PCS_SETS[0] as (typeof PCS_SETS)[number]);
    const fromPem = collateralFromParts({ tcbSigningChain: pem }, base).tcbSigningChain;
    assert.equal(fromPem.match(/BEGIN CERTIFICATE/g)?.length, 2);
    assert.equal(
      collateralFromParts({ tcbSigningChain: encodeURIComponent(pem) }, base).tcbSigningChain,
      fromPem,
    );
    assert.equal(
      collateralFromParts({ tcbSigningChain: utf8(pem) }, base).tcbSigningChain,
      fromPem,
    );
    const der = readVector("tdx/automata-pcs-certs/Intel_SGX_TCB_Signing_2025.der");
    const one = collateralFromParts({ tcbSigningChain: der }, base).tcbSigningChain;
    assert.equal(one.match(/BEGIN CERTIFICATE/g)?.length, 1);
    assert.throws(
      () => collateralFromParts({ tcbSigningChain: "no certificate" }, base),
      malformed(/^tcbSigningChain$/),
    );
    assert.throws(
      () => collateralFromParts({ tcbSigningChain: der.subarray(0, 100) }, base),
      malformed(/^tcbSigningChain$/),
    );
  });

  test("CRLs as DER, PEM, base64 or hex all read to the same DER", () => {
    const der = readVector("tdx/go-tdx-guest-spr-v4/pckcrl.der");
    const b64 = Buffer.from(der).toString("base64");
    const pem = `-----BEGIN X509 CRL-----\n${b64.match(/.{1,64}/g)?.join("\n")}\n-----END X509 CRL-----\n`;
    const base = fromPcsSet(PCS_SETS[0] as (typeof PCS_SETS)[number]);
    for (const form of [der, pem, utf8(pem), b64, Buffer.from(der).toString("hex").toUpperCase()]) {
      assert.deepEqual(collateralFromParts({ pckCrl: form }, base).pckCrl, der);
    }
    assert.throws(
      () => collateralFromParts({ pckCrl: der.subarray(0, der.length - 1) }, base),
      malformed(/^pckCrl$/),
    );
    assert.throws(
      () => collateralFromParts({ rootCrl: "not a crl!" }, base),
      malformed(/^rootCrl$/),
    );
  });
});

function chainOnly() {
  return { tcbSigningChain: readVector("tdx/automata-pcs-certs/Intel_SGX_TCB_Signing_2025.der") };
}

describe("Cloister bundle", () => {
  const all = [...PCS_SETS.map(fromPcsSet), ...DCAP_QVL.map((p) => parseCollateralBundle(text(p)))];

  test("encode then parse gives the same collateral, byte for byte", () => {
    for (const collateral of all) {
      const encoded = encodeCollateralBundle(collateral);
      assert.equal(
        (JSON.parse(encoded) as { format: string }).format,
        DCAP_COLLATERAL_BUNDLE_FORMAT,
      );
      assert.deepEqual(parseCollateralBundle(encoded), collateral);
      assert.deepEqual(parseCollateralBundle(utf8(encoded)), collateral);
    }
  });

  test("the bundle carries the PCS bodies verbatim", () => {
    const collateral = all[0] as DcapCollateral;
    const bundle = JSON.parse(encodeCollateralBundle(collateral)) as Record<string, string>;
    assert.equal(
      bundle.tcbInfo,
      text(vectorEntry("tdx/go-tdx-guest-spr-v4").files.tcb_info as string),
    );
    assert.match(bundle.pckCrl as string, /^-----BEGIN X509 CRL-----\n/);
  });

  test("what the CLI's PCS fetcher writes is read (PEM CRLs, decoded header chain)", () => {
    const set = PCS_SETS[0] as (typeof PCS_SETS)[number];
    const files = vectorEntry(set.id).files;
    const crlPem = (path: string) =>
      `-----BEGIN X509 CRL-----\n${Buffer.from(readVector(path))
        .toString("base64")
        .match(/.{1,64}/g)
        ?.join("\n")}\n-----END X509 CRL-----\n`;
    const bundle = JSON.stringify({
      format: DCAP_COLLATERAL_BUNDLE_FORMAT,
      tcbInfo: text(files.tcb_info as string),
      qeIdentity: text(files.qe_identity as string),
      tcbSigningChain: text(set.chain),
      pckCrl: crlPem(set.pckCrl as string),
      rootCrl: crlPem(set.rootCrl as string),
      pckCrlIssuerChain: text(set.pckCrlIssuerChain as string),
    });
    assert.deepEqual(parseCollateralBundle(bundle), fromPcsSet(set));
  });

  test("wrong formats, unknown members and single PCS documents are refused", () => {
    const encoded = JSON.parse(encodeCollateralBundle(all[0] as DcapCollateral)) as Record<
      string,
      unknown
    >;
    const again = (changes: Record<string, unknown>) => JSON.stringify({ ...encoded, ...changes });
    assert.throws(
      () => parseCollateralBundle(again({ format: "cloister/dcap-collateral/v2" })),
      malformed(/^format$/),
    );
    assert.throws(() => parseCollateralBundle(again({ tcbinfo: "x" })), malformed(/^tcbinfo$/));
    assert.throws(() => parseCollateralBundle(again({ rootCrl: 5 })), malformed(/^rootCrl$/));
    assert.throws(
      () => parseCollateralBundle(again({ tcbSigningChain: undefined })),
      malformed(/^tcbSigningChain$/),
    );
    assert.throws(
      () =>
        parseCollateralBundle(text(vectorEntry("tdx/automata-gcp-v4").files.tcb_info as string)),
      (e: unknown) => e instanceof ParseError && /single Intel PCS document/.test(e.message),
    );
    assert.throws(() => parseCollateralBundle("[]"), malformed(/^the collateral bundle$/));
    assert.throws(() => parseCollateralBundle("{}"), malformed(/^the collateral bundle$/));
  });
});
