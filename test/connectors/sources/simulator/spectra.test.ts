import { describe, expect, it } from 'vitest';
import {
  SIM_BELT,
  SIM_BLACK_LENTIL,
  SIM_BROWN_LENTIL,
  SIM_CLASSES,
  SIM_HUSK,
  SIM_PLASTIC,
  SIM_STONE,
  SIM_WOOD,
} from '../../../../connectors/sources/simulator/classes.js';
import {
  illuminationResponse,
  materialReflectance,
  materialSpectrum,
  materialVariants,
} from '../../../../connectors/sources/simulator/spectra.js';
import { linearWavelengths, simWavelengths } from '../../../../connectors/sources/simulator/wavelengths.js';

const drawn = [SIM_BLACK_LENTIL, SIM_BROWN_LENTIL, SIM_STONE, SIM_BELT, SIM_HUSK, SIM_PLASTIC, SIM_WOOD];

describe('material spectra', () => {
  it('stay within (0, 1) from 400 to 1700 nm for every class and variant', () => {
    for (const id of drawn) {
      for (let variant = 0; variant < materialVariants(id); variant++) {
        let lo = 1;
        let hi = 0;
        for (let nm = 400; nm <= 1700; nm += 5) {
          const r = materialReflectance(id, nm, variant);
          lo = Math.min(lo, r);
          hi = Math.max(hi, r);
        }
        expect(lo, `${SIM_CLASSES[id]?.name} variant ${variant}`).toBeGreaterThan(0);
        expect(hi, `${SIM_CLASSES[id]?.name} variant ${variant}`).toBeLessThan(1);
      }
    }
  });

  it('make stones brighter and flatter than black lentils', () => {
    for (let nm = 430; nm <= 910; nm += 8) {
      expect(materialReflectance(SIM_STONE, nm)).toBeGreaterThan(
        2 * materialReflectance(SIM_BLACK_LENTIL, nm),
      );
    }
    const ratio = (id: number) => materialReflectance(id, 900) / materialReflectance(id, 450);
    expect(ratio(SIM_STONE)).toBeLessThan(1.5);
    expect(ratio(SIM_BLACK_LENTIL)).toBeGreaterThan(ratio(SIM_STONE));
  });

  it('gives brown lentils a red edge near 700 nm and low blue', () => {
    const r = (nm: number) => materialReflectance(SIM_BROWN_LENTIL, nm);
    expect(r(800)).toBeGreaterThan(2 * r(620));
    expect(r(440)).toBeLessThan(0.1);
  });

  it('gives plastics sharp C-H bands near 1210 nm, absent from stones', () => {
    const dip = (id: number, variant = 0) =>
      (materialReflectance(id, 1170, variant) + materialReflectance(id, 1250, variant)) / 2 -
      materialReflectance(id, 1210, variant);
    expect(dip(SIM_PLASTIC)).toBeGreaterThan(0.05);
    expect(Math.abs(dip(SIM_STONE))).toBeLessThan(0.01);
  });

  it('samples a spectrum per band', () => {
    const w = simWavelengths('default');
    const s = materialSpectrum(SIM_BELT, w);
    expect(s.length).toBe(61);
    expect(s[30]).toBeCloseTo(materialReflectance(SIM_BELT, w[30]!), 6);
  });
});

describe('illuminationResponse', () => {
  it('peaks at 1 and is low in the blue (halogen on silicon)', () => {
    const w = simWavelengths('default');
    const r = illuminationResponse(w);
    expect(Math.max(...r)).toBeCloseTo(1, 6);
    expect(r[0]!).toBeLessThan(0.3 * r[40]!);
  });

  it('uses an InGaAs response for bands from 900 nm up', () => {
    const r = illuminationResponse(linearWavelengths(3, 1100, 1500));
    expect(Math.min(...r)).toBeGreaterThan(0.5);
  });
});
