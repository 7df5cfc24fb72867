/**
 * Nested or restricted KVM can open /dev/kvm, run the firmware, and then hang the guest's kernel for
 * good: qemu spins at full CPU and the guest never writes a byte. Seen on a CI VM of this project:
 * SeaBIOS read the CD's boot record (one trace line), Debian's kernel printed nothing in minutes,
 * while under TCG the same kernel printed within a second. qemu itself does not fail, so only the
 * guest's silence tells. With `--accel auto` such a boot is stopped and run again under TCG.
 */

/** A guest that is silent this long (no console byte, no new trace line) under KVM is stalled. */
export const KVM_STALL_MS = 20_000;

/**
 * Watches one boot's console and trace sizes. The guest shows life by writing to its console; until
 * then, a trace that stops growing for `stallMs` means the guest stopped too. A boot without a
 * serial console (an ISO's own bootloader) keeps reading the CD while it boots, so it is not taken
 * for stalled unless it goes quiet for the whole window.
 */
export class GuestStallWatch {
  private alive = false;
  private lastTraceBytes = -1;
  private lastChangeMs = 0;

  constructor(private readonly stallMs: number = KVM_STALL_MS) {}

  /** Record one sample; true once the guest counts as stalled. */
  stalled(elapsedMs: number, consoleBytes: number, traceBytes: number): boolean {
    if (this.alive) return false;
    if (consoleBytes > 0) {
      this.alive = true;
      return false;
    }
    if (traceBytes !== this.lastTraceBytes) {
      this.lastTraceBytes = traceBytes;
      this.lastChangeMs = elapsedMs;
    }
    return elapsedMs - this.lastChangeMs >= this.stallMs;
  }
}
