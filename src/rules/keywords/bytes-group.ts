import type { Keyword } from '../keyword.js';
import { bsize } from './bsize.js';
import { byteExtract } from './byte_extract.js';
import { byteJump } from './byte_jump.js';
import { byteMath } from './byte_math.js';
import { byteTest } from './byte_test.js';
import { isdataat } from './isdataat.js';

/** The payload keywords that read numbers and positions: byte_test, byte_jump, byte_extract, byte_math, isdataat, bsize. */
export const BYTE_KEYWORDS: Keyword[] = [byteTest, byteJump, byteExtract, byteMath, isdataat, bsize];
