import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/telemetry/redact.js';

describe('redactUrl', () => {
  it.each([
    ['mqtts://plc:s3cret@broker:8883', 'mqtts://plc:***@broker:8883'],
    ['nats://tok3n@nats:4222', 'nats://***@nats:4222'],
    ['nats://a:b@n1:4222,nats://c:d@n2:4222', 'nats://a:***@n1:4222,nats://c:***@n2:4222'],
    ['mqtt://broker:1883', 'mqtt://broker:1883'],
    ['mqtt://user:p@ss:w0rd@host', 'mqtt://user:***@ss:w0rd@host'],
    ['not a url', 'not a url'],
  ])('%s -> %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });
});
