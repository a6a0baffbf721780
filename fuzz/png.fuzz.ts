import { decodePng } from '../src/util/png.ts';
import { UserError } from '../src/util/errors.ts';
export function fuzz(data: Buffer): void {
  try {
    decodePng(data, 'f.png');
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
  }
}
