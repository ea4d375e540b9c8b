import { readFile } from 'node:fs/promises';
import type { z } from 'zod';

/** Reads a JSON file a step wrote (a model file), validated against its schema (schemas/model-files.ts). */
export async function readJsonFile<S extends z.ZodType>(path: string, schema: S): Promise<z.infer<S>> {
  return schema.parse(JSON.parse(await readFile(path, 'utf8')));
}
