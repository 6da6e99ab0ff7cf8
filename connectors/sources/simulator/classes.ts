/**
 * The label classes of the simulated lentil conveyor. Frames from the simulator carry these ids
 * in `labels`; ENVI masks written by `cubestream simulate` use them too.
 */

/** One label class of the simulator. */
export interface SimClass {
  /** Class id stored in `labels` (0-255). */
  readonly id: number;
  /** Short machine name, e.g. `brown_lentil`. */
  readonly name: string;
  /** Whether the class is a foreign body the detector must find. */
  readonly anomaly: boolean;
  /** One line describing the material. */
  readonly description: string;
}

/** Class id of pixels with no label (never produced by the simulator, kept for datasets). */
export const SIM_UNLABELLED = 0;
/** Class id of black lentils (normal product). */
export const SIM_BLACK_LENTIL = 1;
/** Class id of brown lentils (normal product). */
export const SIM_BROWN_LENTIL = 2;
/** Class id of stones (foreign body). */
export const SIM_STONE = 3;
/** Class id of the empty conveyor belt (normal background). */
export const SIM_BELT = 4;
/** Class id of husk fragments (foreign body). */
export const SIM_HUSK = 5;
/** Class id of plastic fragments (foreign body). */
export const SIM_PLASTIC = 6;
/** Class id of wood splinters and twigs (foreign body). */
export const SIM_WOOD = 7;

/**
 * The simulator's classes, indexed by id.
 *
 * @example
 * ```ts
 * SIM_CLASSES[SIM_STONE]?.name; // 'stone'
 * ```
 */
export const SIM_CLASSES: readonly SimClass[] = [
  { id: 0, name: 'unlabelled', anomaly: false, description: 'no label' },
  {
    id: 1,
    name: 'black_lentil',
    anomaly: false,
    description: 'black (beluga) lentil: dark, slight NIR rise',
  },
  {
    id: 2,
    name: 'brown_lentil',
    anomaly: false,
    description: 'brown lentil: low blue, red edge near 700 nm',
  },
  { id: 3, name: 'stone', anomaly: true, description: 'grey stone: flat, brighter, mineral absorptions' },
  { id: 4, name: 'belt', anomaly: false, description: 'dark rubber conveyor belt' },
  { id: 5, name: 'husk', anomaly: true, description: 'husk fragment: straw-like, thin and elongated' },
  { id: 6, name: 'plastic', anomaly: true, description: 'plastic fragment: coloured, sharp C-H bands' },
  { id: 7, name: 'wood', anomaly: true, description: 'wood splinter or twig: long and thin, lignin bands' },
];

/** Class ids that are normal product or background: black lentil, brown lentil, belt. */
export const SIM_NORMAL_CLASS_IDS: readonly number[] = [SIM_BLACK_LENTIL, SIM_BROWN_LENTIL, SIM_BELT];

/** Class ids that are foreign bodies: stone, husk, plastic, wood. */
export const SIM_ANOMALY_CLASS_IDS: readonly number[] = [SIM_STONE, SIM_HUSK, SIM_PLASTIC, SIM_WOOD];

/** Whether a label id is one of {@link SIM_ANOMALY_CLASS_IDS}. */
export function isSimAnomaly(classId: number): boolean {
  return classId === SIM_STONE || classId === SIM_HUSK || classId === SIM_PLASTIC || classId === SIM_WOOD;
}
