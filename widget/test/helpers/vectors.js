// Loads the protocol vectors from the repository's protocol/ folder. The path is relative to
// this file, so the tests run from any clone with nothing beside it.
import { readFile } from 'node:fs/promises';

export const VECTORS_URL = new URL('../../../protocol/vectors-v1.json', import.meta.url);

/** @type {any} */
export const vectors = JSON.parse(await readFile(VECTORS_URL, 'utf8'));
