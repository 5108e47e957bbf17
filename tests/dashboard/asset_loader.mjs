// Lets node import the dashboard's modules from the source tree: they import
// each other as "{{asset:NAME}}" (the build replaces that with NAME's
// content-hash URL, cmake/embed_assets.cmake), which this resolve hook maps
// to the file of that name under dashboard/.
//
//   import { register } from "node:module";
//   register("./asset_loader.mjs", import.meta.url);
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const DASHBOARD_DIR = fileURLToPath(new URL("../../dashboard/", import.meta.url));
const ASSET = /^\{\{asset:([^}]+)\}\}$/;

function filesByName(dir, found = new Map()) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) filesByName(file, found);
    else if (found.has(entry.name)) throw new Error(`two dashboard files named ${entry.name}: the embed step serves them by name`);
    else found.set(entry.name, file);
  }
  return found;
}

let files = null;

export async function resolve(specifier, context, nextResolve) {
  const match = ASSET.exec(specifier);
  if (!match) return nextResolve(specifier, context);
  files ??= filesByName(DASHBOARD_DIR);
  const file = files.get(match[1]);
  if (!file) throw new Error(`${specifier} (imported by ${context.parentURL}): no such file under dashboard/`);
  return nextResolve(pathToFileURL(file).href, context);
}
