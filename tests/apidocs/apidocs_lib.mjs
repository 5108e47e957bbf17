// Shared by the API-document tests: loads docs/openapi.yaml and
// docs/asyncapi.yaml through their validators and compiles their schemas
// with ajv. Everything is local: no $ref leaves the documents, and the
// validators need no network.

import fs from "node:fs";
import path from "node:path";
import SwaggerParser from "@apidevtools/swagger-parser";
import { Parser as AsyncApiParser } from "@asyncapi/parser";
import Ajv from "ajv";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import YAML from "yaml";

export const DOCS_DIR = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../docs");
export const OPENAPI_FILE = process.env.HOSTPULSE_OPENAPI || path.join(DOCS_DIR, "openapi.yaml");
export const ASYNCAPI_FILE = process.env.HOSTPULSE_ASYNCAPI || path.join(DOCS_DIR, "asyncapi.yaml");

export const HTTP_METHODS = ["get", "head", "post", "put", "patch", "delete", "options"];

// ---- results -----------------------------------------------------------

const results = [];

export function check(name, condition, detail = "") {
  const ok = Boolean(condition);
  results.push([name, ok]);
  console.log(`${ok ? "PASS" : "FAIL"} ${name}${ok || detail === "" ? "" : ": " + (typeof detail === "string" ? detail : JSON.stringify(detail))}`);
  return ok;
}

export function finish() {
  const failed = results.filter(([, ok]) => !ok);
  console.log(`${results.length - failed.length}/${results.length} checks passed`);
  return failed.length === 0 && results.length > 0 ? 0 : 1;
}

export { withTimeout } from "../support/agent_process.mjs";

// ---- OpenAPI -------------------------------------------------------------

// Validates the document (throws on errors) and returns it with every $ref
// resolved, plus an ajv (JSON Schema 2020-12, the dialect of OpenAPI 3.1).
export async function loadOpenApi(file = OPENAPI_FILE) {
  const raw = YAML.parse(fs.readFileSync(file, "utf8"));
  await SwaggerParser.validate(structuredClone(raw));
  const api = await SwaggerParser.dereference(structuredClone(raw));
  const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true, allowUnionTypes: true });
  addFormats(ajv);
  const cache = new Map();
  const validator = (schema) => {
    if (!cache.has(schema)) cache.set(schema, ajv.compile(schema));
    return cache.get(schema);
  };
  return { raw, api, validator };
}

// [{path, method, operation}] for every operation in the document.
export function openApiOperations(api) {
  const out = [];
  for (const [route, item] of Object.entries(api.paths)) {
    for (const method of HTTP_METHODS) {
      if (item[method]) out.push({ path: route, method, operation: item[method] });
    }
  }
  return out;
}

// ---- AsyncAPI ------------------------------------------------------------

// Parses and validates the document: any diagnostic of severity error or
// warning fails. Returns the messages by direction, each with its `type`
// (the payload's `type` const), content type, payload schema (plain JSON,
// refs resolved), compiled validator and examples.
export async function loadAsyncApi(file = ASYNCAPI_FILE) {
  const parser = new AsyncApiParser();
  const { document, diagnostics } = await parser.parse(fs.readFileSync(file, "utf8"), { source: file });
  const problems = diagnostics.filter((d) => d.severity <= 1);
  if (!document || problems.length > 0) {
    const text = problems.map((d) => `${d.code}: ${d.message} at ${d.path.join(".")}`).join("\n  ");
    throw new Error(`${file} is not a valid AsyncAPI document:\n  ${text}`);
  }
  // Draft 07 is the base of the AsyncAPI schema format.
  const ajv = new Ajv({ strict: true, strictRequired: false, allErrors: true, allowUnionTypes: true });
  addFormats(ajv);
  ajv.addVocabulary(["x-parser-schema-id"]);
  const messages = { received: [], sent: [] };  // from the agent's side
  const seen = new Map();
  for (const operation of document.operations()) {
    const direction = operation.action() === "receive" ? "received" : "sent";
    const list = [...operation.messages()];
    const reply = operation.reply();
    const replies = reply ? [...reply.messages()].map((m) => m.id()) : [];
    for (const message of list) {
      if (seen.has(`${direction}:${message.id()}`)) continue;
      seen.set(`${direction}:${message.id()}`, true);
      const schema = message.payload().json();
      const entry = {
        id: message.id(),
        operation: operation.id(),
        type: schema?.properties?.type?.const,
        contentType: message.contentType() || document.defaultContentType() || "application/json",
        schema,
        validate: ajv.compile(schema),
        examples: message.examples().all().map((e) => e.payload()),
        replies,
      };
      messages[direction].push(entry);
    }
    if (reply) {
      for (const message of reply.messages()) {
        if (seen.has(`sent:${message.id()}`)) continue;
        seen.set(`sent:${message.id()}`, true);
        const schema = message.payload().json();
        messages.sent.push({
          id: message.id(), operation: operation.id(), type: schema?.properties?.type?.const,
          contentType: message.contentType() || document.defaultContentType() || "application/json",
          schema, validate: ajv.compile(schema), examples: message.examples().all().map((e) => e.payload()), replies: [],
        });
      }
    }
  }
  return { document, messages, description: document.info().description() || "" };
}

export function formatErrors(validate) {
  return (validate.errors || []).map((e) => `${e.instancePath || "/"} ${e.message}${e.params ? " " + JSON.stringify(e.params) : ""}`).join("; ");
}
