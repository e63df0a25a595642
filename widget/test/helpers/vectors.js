// Loads the shared protocol vectors. The path is relative to this file so it works wherever the
// repository is cloned, as long as shared/ sits beside it (/work/main + /work/shared locally,
// the same layout in CI).
import { readFile } from 'node:fs/promises';

export const VECTORS_URL = new URL('../../../../shared/protocol/vectors-v1.json', import.meta.url);

/** @type {any} */
export const vectors = JSON.parse(await readFile(VECTORS_URL, 'utf8'));
