/**
 * `cubestream/io`: the file formats cubestream reads and writes: ENVI hyperspectral cubes (header,
 * streaming row reader and writer, masks) and safetensors (model weights, frames on the wire).
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { openEnvi, decodeSafetensors } from 'cubestream/io';
 * const reader = await openEnvi('scene/cube.hdr');
 * const weights = decodeSafetensors(await readFile('models/lentils/weights.safetensors'));
 * ```
 *
 * @packageDocumentation
 */

/** ENVI: data types, errors, headers, cubes read whole or by rows, masks, writers. */
export {
  createEnviWriter,
  ENVI_DATA_TYPES,
  ENVI_RADIOMETRY_KEY,
  type EnviCube,
  type EnviCubeInput,
  type EnviCubeWriteOptions,
  EnviDataError,
  type EnviDataProblem,
  type EnviDataType,
  type EnviDtype,
  type EnviHeader,
  EnviHeaderError,
  type EnviInterleave,
  type EnviReader,
  type EnviRowBlock,
  type EnviWritableType,
  EnviWriteError,
  type EnviWriter,
  type EnviWriterSpec,
  enviCubeFrame,
  findEnviMask,
  formatEnviHeader,
  listEnviCubes,
  openEnvi,
  parseEnviHeader,
  readEnviCube,
  readEnviHeader,
  readEnviMask,
  writeEnviCube,
} from './envi/index.js';
/** safetensors: decode and encode files of named tensors, and read a tensor as floats. */
export {
  decodeSafetensors,
  dtypeBytes,
  encodeSafetensors,
  type SafeTensor,
  type SafetensorsData,
  type SafetensorsDecodeOptions,
  type SafetensorsDtype,
  type SafetensorsEntry,
  SafetensorsError,
  type SafetensorsFile,
  toFloat32,
  toFloat64,
} from './safetensors.js';
