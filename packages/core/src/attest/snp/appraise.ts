import { fail, pass, pinnedHex, skip } from "../checks.js";
import type { Policy } from "../policy.js";
import type { Check, Claims } from "../types.js";
import type { SnpPlatformClaims, TcbClaim } from "./claims.js";
import { type MinimumTcb, parseFirmwareVersion, type SnpPolicy } from "./policy.js";

const TCB_NAMES: Record<keyof MinimumTcb, string> = {
  bootloader: "bootloader",
  tee: "TEE",
  snp: "SNP firmware",
  microcode: "microcode",
  fmc: "FMC",
};

/**
 * The SEV-SNP rules of a policy. The common rules (measurement, debug, chip ID as hardware ID,
 * report data) run in attest(); these add what only SNP has. One check, one reason code.
 */
export function appraiseSnp(claims: Claims, policy: Policy): Check[] {
  const snp = claims.platformClaims as unknown as SnpPlatformClaims;
  const rules: SnpPolicy = policy.snp ?? {};
  const checks: Check[] = [];
  if (rules.products !== undefined) {
    checks.push(
      rules.products.includes(snp.product)
        ? pass(
            "snp.policy.product",
            `The processor is an AMD ${snp.product}, which the policy allows.`,
          )
        : fail(
            "snp.policy.product",
            `The processor is an AMD ${snp.product}; the policy allows ${rules.products.join(", ")}.`,
          ),
    );
  }
  checks.push(...minimumTcbChecks(snp.reportedTcb, rules.minimumTcb));
  if (rules.minimumFirmware !== undefined)
    checks.push(firmwareCheck(snp.firmware, rules.minimumFirmware));
  if (rules.minimumGuestSvn !== undefined) {
    checks.push(
      snp.guestSvn >= rules.minimumGuestSvn
        ? pass(
            "snp.policy.guest_svn",
            `The guest SVN ${snp.guestSvn} is at least ${rules.minimumGuestSvn}.`,
          )
        : fail(
            "snp.policy.guest_svn",
            `The guest SVN ${snp.guestSvn} is below the minimum ${rules.minimumGuestSvn}.`,
          ),
    );
  }
  checks.push(
    ...pinnedHex("snp.policy.host_data", "host data", snp.hostData, rules.hostData),
    ...pinnedHex("snp.policy.id_key_digest", "ID key digest", snp.idKeyDigest, rules.idKeyDigests),
    ...pinnedHex(
      "snp.policy.author_key_digest",
      "author key digest",
      snp.authorKeyDigest,
      rules.authorKeyDigests,
    ),
    ...pinnedHex("snp.policy.family_id", "family ID", snp.familyId, rules.familyIds),
    ...pinnedHex("snp.policy.image_id", "image ID", snp.imageId, rules.imageIds),
  );
  if (rules.vmpls !== undefined) {
    checks.push(
      rules.vmpls.includes(snp.vmpl)
        ? pass(
            "snp.policy.vmpl",
            `The report was requested at VMPL ${snp.vmpl}, which the policy allows.`,
          )
        : fail(
            "snp.policy.vmpl",
            `The report was requested at VMPL ${snp.vmpl}; the policy allows VMPL ${rules.vmpls.join(", ")}.`,
          ),
    );
  }
  if (rules.signingKeys !== undefined) {
    const name = snp.signingKey.toUpperCase();
    checks.push(
      rules.signingKeys.includes(snp.signingKey)
        ? pass(
            "snp.policy.signing_key",
            `The report is signed by a ${name}, which the policy allows.`,
          )
        : fail(
            "snp.policy.signing_key",
            `The report is signed by a ${name}, which the policy does not allow.`,
          ),
    );
  }
  if (!snp.policy.migrateMa) {
    checks.push(pass("snp.policy.migration_agent", "The guest policy allows no migration agent."));
  } else if (rules.allowMigrationAgent === true) {
    checks.push(
      pass(
        "snp.policy.migration_agent",
        "The guest policy allows a migration agent, as this policy permits.",
      ),
    );
  } else {
    checks.push(
      fail(
        "snp.policy.migration_agent",
        "The guest policy allows a migration agent, which could export the guest's memory.",
      ),
    );
  }
  if (rules.requireSmtDisabled === true) {
    const smtOn = snp.policy.smt || snp.platformInfo.smtEnabled;
    checks.push(
      smtOn
        ? fail(
            "snp.policy.smt",
            `SMT is ${snp.platformInfo.smtEnabled ? "enabled on the host" : "allowed by the guest policy"}, and the policy requires it off.`,
          )
        : pass("snp.policy.smt", "SMT is disabled on the host and forbidden by the guest policy."),
    );
  }
  if (snp.revocation === "unknown" && rules.requireRevocationCheck === true) {
    checks.push(
      fail(
        "snp.policy.revocation",
        "Revocation is unknown (no AMD CRL was supplied) and the policy requires a revocation check.",
      ),
    );
  }
  return checks;
}

function minimumTcbChecks(reported: TcbClaim, minimum: MinimumTcb | undefined): Check[] {
  if (minimum === undefined) {
    return [skip("snp.policy.min_tcb", "No minimum TCB is pinned by the policy.")];
  }
  const checks: Check[] = [];
  for (const part of Object.keys(TCB_NAMES) as (keyof MinimumTcb)[]) {
    const floor = minimum[part];
    if (floor === undefined) continue;
    const code = `snp.policy.min_tcb.${part}`;
    const actual = reported[part];
    if (actual === undefined) {
      // Only Turin has an FMC; a floor for it says nothing about other processors.
      checks.push(skip(code, `The processor has no ${TCB_NAMES[part]} component to compare.`));
    } else if (actual >= floor) {
      checks.push(pass(code, `The ${TCB_NAMES[part]} SPL ${actual} is at least ${floor}.`));
    } else {
      checks.push(
        fail(code, `The ${TCB_NAMES[part]} SPL ${actual} is below the minimum ${floor}.`),
      );
    }
  }
  return checks;
}

function firmwareCheck(running: string, minimum: string): Check {
  const floor = parseFirmwareVersion(minimum);
  const [major = 0, minor = 0, build = 0] = running.split(".").map(Number);
  const order =
    major - floor.major ||
    minor - floor.minor ||
    (floor.build === undefined ? 0 : build - floor.build);
  return order >= 0
    ? pass("snp.policy.min_firmware", `The SNP firmware ${running} is at least ${minimum}.`)
    : fail(
        "snp.policy.min_firmware",
        `The SNP firmware ${running} is older than the minimum ${minimum}.`,
      );
}
