import { describe, expect, it } from 'vitest';
import { asError, CubestreamError } from '../../src/core/errors.js';
import { checkOption, OPTION_ERROR_CODE, OptionError } from '../../src/core/options.js';

describe('OptionError', () => {
  it('names the component, option and value, with the one stable code', () => {
    const error = new OptionError('training', 'batchSize', 0, 'must be a positive integer');
    expect(error).toBeInstanceOf(CubestreamError);
    expect(error.name).toBe('OptionError');
    expect(error.code).toBe('options');
    expect(OPTION_ERROR_CODE).toBe('options');
    expect(error).toMatchObject({ component: 'training', option: 'batchSize', value: '0' });
    expect(error.message).toBe('training option batchSize = 0: must be a positive integer');
  });

  it('renders a value short: strings quoted, arrays by length', () => {
    expect(new OptionError('viewer', 'basePath', 'viewer', 'must start with "/"').message).toContain(
      'basePath = "viewer":',
    );
    expect(new OptionError('simulator', 'wavelengths', [1, 2, 3], 'too few').value).toBe('array(3)');
  });
});

describe('checkOption', () => {
  it('passes when the condition holds and throws an OptionError when it does not', () => {
    expect(() => checkOption(true, 'mqtt sink', 'offlineQueueSize', 5, 'an integer >= 1')).not.toThrow();
    expect(() => checkOption(false, 'mqtt sink', 'offlineQueueSize', 0, 'an integer >= 1')).toThrow(
      new OptionError('mqtt sink', 'offlineQueueSize', 0, 'an integer >= 1'),
    );
  });
});

describe('asError', () => {
  it('keeps an Error as it is and wraps anything else', () => {
    const error = new RangeError('out');
    expect(asError(error)).toBe(error);
    expect(asError('boom')).toBeInstanceOf(Error);
    expect(asError('boom').message).toBe('boom');
    expect(asError(undefined).message).toBe('undefined');
  });
});
