/**
 * The cameras Aravis sees: GigE Vision cameras answering discovery on any interface, USB3 Vision
 * cameras on the bus (and Aravis's fake camera when one runs).
 */
import { type AravisLibrary, loadAravis } from './aravis-library.js';
import { withDiscoveryLock } from './discovery-lock.js';

/** A camera as discovery reports it. */
export interface DiscoveredCamera {
  /** Aravis device id, e.g. `Aravis-Fake-GV01` or `Specim-FX10e-123456` (what `camera:` may name). */
  id: string;
  vendor: string;
  model: string;
  serial: string;
  /** IP address (GigE Vision) or bus address (USB3 Vision). */
  address: string;
  /** `GigEVision`, `USB3Vision`, ... */
  protocol: string;
}

/**
 * The device list Aravis holds now, as read from its last update (no I/O). Call it under the
 * discovery lock, after `arv_update_device_list`.
 *
 * @example
 * ```ts
 * import { loadAravis } from './aravis-library.js';
 * const aravis = await loadAravis();
 * aravis.fn.arv_update_device_list();
 * const cameras = readDeviceList(aravis);
 * ```
 */
export function readDeviceList(aravis: AravisLibrary): DiscoveredCamera[] {
  const { fn } = aravis;
  const cameras: DiscoveredCamera[] = [];
  const count = fn.arv_get_n_devices();
  for (let i = 0; i < count; i++) {
    cameras.push({
      id: fn.arv_get_device_id(i) ?? '',
      vendor: fn.arv_get_device_vendor(i) ?? '',
      model: fn.arv_get_device_model(i) ?? '',
      serial: fn.arv_get_device_serial_nbr(i) ?? '',
      address: fn.arv_get_device_address(i) ?? '',
      protocol: fn.arv_get_device_protocol(i) ?? '',
    });
  }
  return cameras;
}

/**
 * Discovers the cameras Aravis can reach (GigE Vision discovery waits about a second for answers;
 * it runs on a koffi thread, not the event loop).
 *
 * @throws {@link AravisUnavailableError} (rejects) when koffi or Aravis is not installed
 * @example
 * ```ts
 * for (const camera of await listCameras()) console.log(camera.id, camera.address);
 * ```
 */
export async function listCameras(): Promise<DiscoveredCamera[]> {
  const aravis = await loadAravis();
  return withDiscoveryLock(async () => {
    await aravis.updateDeviceListAsync();
    return readDeviceList(aravis);
  });
}
