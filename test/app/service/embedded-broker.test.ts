import { describe, expect, it } from 'vitest';
import { isPortFree, startEmbeddedBroker } from '../../../src/app/service/embedded-broker.js';
import { PortInUseError } from '../../../src/app/service/service-errors.js';
import { collect, waitFor } from '../../helpers/mqtt-collector.js';

describe('startEmbeddedBroker', () => {
  it('serves MQTT 3.1.1 on a port, which then is no longer free, and refuses a second broker there', async () => {
    const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
    try {
      expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
      expect(await isPortFree('127.0.0.1', broker.port)).toBe(false);
      const second = startEmbeddedBroker({ host: '127.0.0.1', port: broker.port });
      await expect(second).rejects.toThrow(PortInUseError);
      await expect(second).rejects.toThrow(
        `embedded MQTT broker: 127.0.0.1:${broker.port} is already in use`,
      );

      const sub = await collect(broker.url, ['t/#'], { protocolVersion: 4 });
      await sub.client.publishAsync('t/x', 'hello', { qos: 1 });
      await waitFor(() => sub.messages.length === 1, 'the message');
      expect(sub.messages[0]).toMatchObject({ topic: 't/x', payload: 'hello' });
      expect(broker.clients).toBe(1);
      await sub.close();
    } finally {
      await broker.close();
    }
    expect(await isPortFree('127.0.0.1', broker.port)).toBe(true);
  });
});
