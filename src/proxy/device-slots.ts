// A cap on proxied calls in flight per device, so one integration cannot monopolise a device's
// small Web Services server (or the poller's view of it). Over the cap a call is refused at once
// rather than queued: queues hide overload and hold memory.

export interface DeviceSlots {
  /** A release function when a slot is free; undefined when the device is at its cap. */
  acquire(deviceId: string): (() => void) | undefined;
  inFlight(deviceId: string): number;
}

export function createDeviceSlots(perDevice: number): DeviceSlots {
  const used = new Map<string, number>();
  return {
    acquire(deviceId) {
      const n = used.get(deviceId) ?? 0;
      if (n >= perDevice) return undefined;
      used.set(deviceId, n + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (used.get(deviceId) ?? 1) - 1;
        if (left <= 0) used.delete(deviceId);
        else used.set(deviceId, left);
      };
    },
    inFlight: (deviceId) => used.get(deviceId) ?? 0,
  };
}
