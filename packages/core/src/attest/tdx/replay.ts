import { asBufferSource, concat, equalBytes, toHex, utf8 } from "../../bytes.js";
import { fail, pass, short, skip } from "../checks.js";
import type { Check } from "../types.js";
import {
  type CcelEvent,
  decodeEfiVariable,
  decodeTdShimConfigInfo,
  EV,
  type EventLog,
  textOf,
} from "./event-log.js";

/**
 * What the CCEL proves once it replays to the quote's RTMRs, and what a policy may then pin.
 * A quote signs RTMR values only; the log is unsigned. Replaying it (TDX extends an RTMR as
 * RTMR = SHA-384(RTMR || digest), from 48 zero bytes) ties every logged digest, in order, to
 * the signed values, and nothing more: event data is bound only where its digest hashes it.
 */

export type Rtmrs = readonly [Uint8Array, Uint8Array, Uint8Array, Uint8Array];

const RTMR_SIZE = 48;

async function sha384(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-384", asBufferSource(bytes)));
}

/** EV_NO_ACTION is logged but never extended; MR index 0 (MRTD) is built by the TDX module. */
const extendsRtmr = (event: CcelEvent): boolean => event.type !== EV.NO_ACTION && event.mrIndex > 0;

/** RTMR0..RTMR3 as the log's SHA-384 digests extend them. */
export async function replayRtmrs(log: EventLog): Promise<Rtmrs> {
  const rtmrs: Uint8Array[] = [0, 1, 2, 3].map(() => new Uint8Array(RTMR_SIZE));
  for (const event of log.events) {
    if (!extendsRtmr(event)) continue;
    const i = event.mrIndex - 1;
    rtmrs[i] = await sha384(concat([rtmrs[i] as Uint8Array, event.sha384]));
  }
  return rtmrs as unknown as Rtmrs;
}

/**
 * One check per RTMR: pass where the replay equals the quote's value, `tdx.event_log.rtmr_mismatch`
 * where it does not. RTMR3 is left to the running OS: with no RTMR3 events and a zero RTMR3 it
 * is reported as skipped; a non-zero RTMR3 the log cannot explain fails like any other.
 */
export async function checkReplay(log: EventLog, quoteRtmrs: Rtmrs): Promise<Check[]> {
  const replayed = await replayRtmrs(log);
  return replayed.map((value, i) => {
    const name = `RTMR${i}`;
    const quoted = quoteRtmrs[i] as Uint8Array;
    const count = log.events.filter((e) => extendsRtmr(e) && e.mrIndex === i + 1).length;
    if (!equalBytes(value, quoted)) {
      return fail(
        "tdx.event_log.rtmr_mismatch",
        count === 0
          ? `${name} in the quote is ${short(toHex(quoted))}, but the event log records no ${name} events.`
          : `${name} in the quote is ${short(toHex(quoted))}, but its ${count} logged events replay to ${short(toHex(value))}.`,
      );
    }
    if (i === 3 && count === 0) {
      return skip(
        "tdx.event_log.rtmr_replay",
        "RTMR3 is zero and the event log records no RTMR3 events: nothing extended it.",
      );
    }
    return pass(
      "tdx.event_log.rtmr_replay",
      `${name} replays from ${count} logged events to the quote's ${short(toHex(quoted))}.`,
    );
  });
}

/** True when the event's SHA-384 digest is the hash of its own data (so the data is bound). */
export async function eventDigestMatches(event: CcelEvent): Promise<boolean> {
  return equalBytes(await sha384(event.data), event.sha384);
}

export interface MeasuredImage {
  readonly register: CcelEvent["register"];
  /** SHA-384 as extended (for PE images, the Authenticode hash), lower-case hex. */
  readonly sha384: string;
  /** The path the log labels it with. A label only: it is not covered by the digest. */
  readonly path?: string;
}

export interface BootSummary {
  /** The kernel command line, only when its event's digest is the hash of this very text. */
  readonly kernelCmdline?: string;
  /** The kernel image GRUB loaded, or td-shim's payload. */
  readonly kernel?: MeasuredImage;
  /** Every EV_EFI_BOOT_SERVICES_APPLICATION in log order: shim, GRUB, or a UKI/kernel. */
  readonly bootApplications: readonly MeasuredImage[];
  /** The SecureBoot variable the firmware measured (only when its digest covers the data). */
  readonly secureBoot?: boolean;
}

/** The EFI global-variable GUID that SecureBoot lives under. */
const EFI_GLOBAL_VARIABLE = "8be4df61-93ca-11d2-aa0d-00e098032b8c";

/** GRUB measures a command line's text without this prefix, which only labels the event. */
const GRUB_KERNEL_CMDLINE = "kernel_cmdline: ";

const image = (event: CcelEvent, path?: string): MeasuredImage => ({
  register: event.register,
  sha384: toHex(event.sha384),
  ...(path === undefined ? {} : { path }),
});

/**
 * What was booted, in the terms a policy pins. Meaningful only after checkReplay passed for the
 * registers involved (RTMR0 for SecureBoot, RTMR1 for boot applications and td-shim's payload
 * and command line, RTMR2 for GRUB's kernel and command line): until then every value here is
 * whatever the unsigned log says.
 *
 * Sources: GRUB (2.06+) logs "kernel_cmdline: <path> <args>" as EV_IPL in RTMR2 with the digest
 * of the text after the prefix, right after the kernel file's own EV_IPL (its digest is the
 * file's SHA-384). The kernel is taken by that position, which replay binds, not by its label.
 * td-shim logs the payload as EV_EFI_PLATFORM_FIRMWARE_BLOB2 "td_payload" and the command line
 * as EV_PLATFORM_CONFIG_FLAGS "td_payload_info", whose digest covers the text.
 */
export async function bootSummary(log: EventLog): Promise<BootSummary> {
  const bootApplications: MeasuredImage[] = [];
  let kernelCmdline: string | undefined;
  let kernel: MeasuredImage | undefined;
  let secureBoot: boolean | undefined;
  let previousInRtmr2: CcelEvent | undefined;

  for (const event of log.events) {
    switch (event.type) {
      case EV.EFI_BOOT_SERVICES_APPLICATION:
        bootApplications.push(image(event, event.description));
        break;
      case EV.EFI_VARIABLE_DRIVER_CONFIG: {
        const variable = decodeEfiVariable(event.data);
        if (
          variable?.guid === EFI_GLOBAL_VARIABLE &&
          variable.name === "SecureBoot" &&
          variable.value.length === 1 &&
          (await eventDigestMatches(event))
        ) {
          secureBoot = variable.value[0] === 1;
        }
        break;
      }
      case EV.IPL: {
        const text = event.mrIndex === 3 ? textOf(event.data) : undefined;
        if (text?.startsWith(GRUB_KERNEL_CMDLINE)) {
          const cmdline = text.slice(GRUB_KERNEL_CMDLINE.length);
          if (equalBytes(await sha384(utf8(cmdline)), event.sha384)) {
            kernelCmdline = cmdline;
            const path = cmdline.split(" ")[0];
            kernel =
              previousInRtmr2?.type === EV.IPL && previousInRtmr2.description === path
                ? image(previousInRtmr2, path)
                : undefined;
          }
        }
        break;
      }
      case EV.EFI_PLATFORM_FIRMWARE_BLOB2:
        if (event.mrIndex === 2 && event.description === "td_payload") kernel = image(event);
        break;
      case EV.PLATFORM_CONFIG_FLAGS: {
        const info = event.mrIndex === 2 ? decodeTdShimConfigInfo(event.data) : undefined;
        if (
          info?.descriptor === "td_payload_info" &&
          equalBytes(await sha384(info.info), event.sha384)
        ) {
          const text = textOf(info.info);
          if (text !== undefined) kernelCmdline = text;
        }
        break;
      }
    }
    if (event.mrIndex === 3 && extendsRtmr(event)) previousInRtmr2 = event;
  }
  return {
    bootApplications,
    ...(kernelCmdline === undefined ? {} : { kernelCmdline }),
    ...(kernel === undefined ? {} : { kernel }),
    ...(secureBoot === undefined ? {} : { secureBoot }),
  };
}
