/**
 * ENVI hyperspectral files: header parsing and formatting, a streaming row reader and writer.
 *
 * @example
 * ```ts
 * import { openEnvi } from 'cubestream/io';
 * const reader = await openEnvi('scene/cube.hdr');
 * ```
 */
export {
  checkEnviDataSize,
  enviBasePath,
  enviDataCandidates,
  expectedEnviDataBytes,
  findEnviDataFile,
  MAX_ENVI_HEADER_BYTES,
  readEnviHeader,
} from './data-file.js';
export {
  ENVI_DATA_TYPES,
  type EnviDataType,
  type EnviDtype,
  enviDtype,
  isEnviDataType,
} from './data-types.js';
export { findEnviMask, isEnviMaskHeader, listEnviCubes } from './discover.js';
export { EnviDataError, type EnviDataProblem, EnviHeaderError, EnviWriteError } from './errors.js';
export {
  ENVI_RADIOMETRY_KEY,
  type EnviHeader,
  type EnviInterleave,
  formatEnviHeader,
  parseEnviHeader,
} from './header.js';
export {
  type EnviCube,
  type EnviReader,
  type EnviRowBlock,
  enviCubeFrame,
  openEnvi,
  readEnviCube,
  readEnviMask,
} from './reader.js';
export {
  createEnviWriter,
  type EnviCubeInput,
  type EnviCubeWriteOptions,
  type EnviWritableType,
  type EnviWriter,
  type EnviWriterSpec,
  writeEnviCube,
} from './writer.js';
