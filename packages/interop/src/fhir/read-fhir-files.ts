import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';

import type { ImportRejection } from '../import-run.ts';

/** One resource found in the input, with where it was found. */
export interface FhirEntry {
  file: string;
  /** Entry number in a Bundle (1-based), line of an NDJSON file, 1 for a lone resource. */
  row: number;
  resource: unknown;
  /** The Bundle entry's fullUrl, by which other entries may refer to it. */
  fullUrl?: string | undefined;
}

/**
 * Reads FHIR R4 JSON (a Bundle or one resource per file) and NDJSON (one resource a line)
 * from files and directories (their *.json and *.ndjson files, in name order). What cannot
 * be read as JSON is returned as a rejection, never thrown: one bad line loses nothing else.
 */
export async function readFhirFiles(
  paths: readonly string[],
): Promise<{ entries: FhirEntry[]; rejections: ImportRejection[]; files: string[] }> {
  const files: string[] = [];
  for (const path of paths) {
    const full = resolve(path);
    if ((await stat(full)).isDirectory()) {
      const names = (await readdir(full)).filter((name) => /\.(nd)?json$/i.test(name)).sort();
      files.push(...names.map((name) => join(full, name)));
    } else {
      files.push(full);
    }
  }

  const entries: FhirEntry[] = [];
  const rejections: ImportRejection[] = [];
  for (const file of files) {
    const text = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '');
    if (/\.ndjson$/i.test(file)) {
      text.split(/\r?\n/).forEach((line, index) => {
        if (line.trim() === '') return;
        const parsed = parseJson(line);
        if (parsed.ok) entries.push({ file, row: index + 1, resource: parsed.value });
        else rejections.push(notJson(file, index + 1, line, parsed.message));
      });
      continue;
    }
    const parsed = parseJson(text);
    if (!parsed.ok) {
      rejections.push(notJson(file, 1, basename(file), parsed.message));
      continue;
    }
    entries.push(...bundleEntries(file, parsed.value, rejections));
  }
  return { entries, rejections, files };
}

function bundleEntries(file: string, value: unknown, rejections: ImportRejection[]): FhirEntry[] {
  const resource = value as { resourceType?: unknown; entry?: unknown };
  if (resource?.resourceType !== 'Bundle') return [{ file, row: 1, resource: value }];
  if (resource.entry === undefined) return [];
  if (!Array.isArray(resource.entry)) {
    rejections.push({
      file,
      row: 1,
      raw: null,
      reason: 'invalid_bundle',
      message: 'Bundle.entry is not a list.',
    });
    return [];
  }
  const entries: FhirEntry[] = [];
  (resource.entry as unknown[]).forEach((entry, index) => {
    const item = entry as {
      resource?: unknown;
      fullUrl?: unknown;
      request?: { method?: unknown };
    } | null;
    const method = item?.request?.method;
    // A transaction's DELETE or PATCH is not a resource to store: applying it as one would
    // write what the sender meant to remove.
    if (method === 'DELETE' || method === 'PATCH') {
      rejections.push({
        file,
        row: index + 1,
        raw: item,
        reason: 'unsupported_request',
        message: `Bundle entries with request.method ${method} are not imported.`,
      });
      return;
    }
    entries.push({
      file,
      row: index + 1,
      resource: item?.resource,
      fullUrl: typeof item?.fullUrl === 'string' ? item.fullUrl : undefined,
    });
  });
  return entries;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
}

function notJson(file: string, row: number, raw: string, message: string): ImportRejection {
  return { file, row, raw: raw.slice(0, 10_000), reason: 'invalid_json', message };
}
