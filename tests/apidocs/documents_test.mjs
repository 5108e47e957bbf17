// The API documents on their own (no agent): docs/openapi.yaml is a valid
// OpenAPI 3.1 document (@apidevtools/swagger-parser), docs/asyncapi.yaml a
// valid AsyncAPI 3 document (@asyncapi/parser, no errors or warnings), every
// example in them validates against its schema (ajv), the schemas the two
// documents share agree, the tables of protocol.md agree with asyncapi.yaml,
// and the prose docs link the documents.
//
// usage: node tests/apidocs/documents_test.mjs   (from the project root)
// Exits non-zero if any check failed.

import fs from "node:fs";
import path from "node:path";
import {
  ASYNCAPI_FILE, DOCS_DIR, OPENAPI_FILE, check, finish, formatErrors, loadAsyncApi, loadOpenApi, openApiOperations,
} from "./apidocs_lib.mjs";

const ROOT = path.resolve(DOCS_DIR, "..");

// Drops descriptions and examples: what the two documents must agree on is
// the shape, not the prose.
function shape(schema) {
  if (Array.isArray(schema)) return schema.map(shape);
  if (schema === null || typeof schema !== "object") return schema;
  const out = {};
  for (const key of Object.keys(schema).sort()) {
    if (["description", "examples", "example", "title", "x-parser-schema-id", "default"].includes(key)) continue;
    out[key] = shape(schema[key]);
  }
  return out;
}

function tableColumn(markdown, heading, headerCell) {
  // The first markdown table after `heading` whose header starts with headerCell: its first column.
  const start = markdown.indexOf(heading);
  if (start < 0) return null;
  const lines = markdown.slice(start).split("\n");
  const header = lines.findIndex((l) => l.startsWith(`| ${headerCell} |`));
  if (header < 0) return null;
  const values = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith("|")) break;
    values.push(line.split("|")[1].trim().replace(/`/g, ""));
  }
  return values;
}

async function main() {
  // ---- OpenAPI ----
  let openapi = null;
  try {
    openapi = await loadOpenApi();
    check("openapi: valid OpenAPI document", true);
  } catch (error) {
    check("openapi: valid OpenAPI document", false, `${OPENAPI_FILE}: ${error.message}`);
  }
  if (openapi) {
    const { api, validator } = openapi;
    check("openapi: version 3.x", /^3\.[01]\./.test(api.openapi), api.openapi);
    let examples = 0;
    for (const { path: route, method, operation } of openApiOperations(api)) {
      check(`openapi: ${method.toUpperCase()} ${route} has an operationId and responses`,
        operation.operationId && Object.keys(operation.responses || {}).length > 0);
      const bodies = Object.entries(operation.responses || {}).map(([status, r]) => [`response ${status}`, r.content]);
      if (operation.requestBody) bodies.push(["request body", operation.requestBody.content]);
      for (const [where, content] of bodies) {
        for (const [mediaType, media] of Object.entries(content || {})) {
          if (!media.schema) continue;
          const validate = validator(media.schema);
          for (const [name, example] of Object.entries(media.examples || {})) {
            ++examples;
            check(`openapi: example '${name}' of ${method.toUpperCase()} ${route} ${where} (${mediaType}) fits its schema`,
              validate(example.value), formatErrors(validate));
          }
        }
      }
    }
    for (const [name, schema] of Object.entries(api.components.schemas)) {
      const validate = validator(schema);
      for (const example of schema.examples || []) {
        ++examples;
        check(`openapi: example of schema ${name} fits it`, validate(example), formatErrors(validate));
      }
    }
    check("openapi: has examples to check", examples >= 15, examples);
    const schemes = api.components.securitySchemes || {};
    check("openapi: bearer and session-cookie security schemes",
      schemes.bearerAuth?.scheme === "bearer" && schemes.sessionCookie?.in === "cookie" &&
        schemes.sessionCookie?.name === "hostpulse_session", schemes);
  }

  // ---- AsyncAPI ----
  let asyncapi = null;
  try {
    asyncapi = await loadAsyncApi();
    check("asyncapi: valid AsyncAPI document (no errors or warnings)", true);
  } catch (error) {
    check("asyncapi: valid AsyncAPI document (no errors or warnings)", false, `${ASYNCAPI_FILE}: ${error.message}`);
  }
  if (asyncapi) {
    const { messages, description } = asyncapi;
    for (const message of [...messages.received, ...messages.sent]) {
      check(`asyncapi: message ${message.id} has a payload with a type const`, typeof message.type === "string", message.schema);
      check(`asyncapi: message ${message.id} has examples or is the msgpack variant`,
        message.examples.length > 0 || message.contentType === "application/msgpack");
      for (const [i, example] of message.examples.entries()) {
        check(`asyncapi: example ${i} of ${message.id} fits its payload`, message.validate(example), formatErrors(message.validate));
      }
    }
    check("asyncapi: documents a msgpack variant of samples",
      messages.sent.some((m) => m.type === "samples" && m.contentType === "application/msgpack"));

    // protocol.md and asyncapi.yaml describe the same protocol.
    const protocol = fs.readFileSync(path.join(DOCS_DIR, "protocol.md"), "utf8");
    const closeCodes = (text) => (tableColumn(text, "Close codes", "code") || []).filter((c) => /^\d+$/.test(c)).sort();
    const documentedCloses = closeCodes(description);
    check("asyncapi: close codes listed", documentedCloses.length >= 5, documentedCloses);
    check("asyncapi: close codes equal protocol.md's", JSON.stringify(documentedCloses) === JSON.stringify(closeCodes(protocol)),
      { asyncapi: documentedCloses, protocol_md: closeCodes(protocol) });
    const errorMessage = messages.sent.find((m) => m.type === "error");
    const errorCodes = [...(errorMessage?.schema?.properties?.code?.enum || [])].sort();
    const protocolCodes = (tableColumn(protocol, "### `error` (server)", "code") || []).sort();
    check("asyncapi: error codes equal protocol.md's table", errorCodes.length > 0 &&
      JSON.stringify(errorCodes) === JSON.stringify(protocolCodes), { asyncapi: errorCodes, protocol_md: protocolCodes });
  }

  // ---- the two documents agree where they describe the same objects ----
  if (openapi && asyncapi) {
    const schemas = openapi.api.components.schemas;
    const sent = Object.fromEntries(asyncapi.messages.sent.map((m) => [m.id, m.schema]));
    const pairs = [
      ["alert event", schemas.AlertEvent, sent.alert],
      ["active alert", schemas.ActiveAlert, sent.alerts?.properties?.active?.items],
      ["series unit", schemas.SeriesInfo.properties.unit, sent.hello?.properties?.families?.items?.properties?.unit],
      ["series kind", schemas.SeriesInfo.properties.kind, sent.hello?.properties?.families?.items?.properties?.kind],
    ];
    for (const [what, a, b] of pairs) {
      check(`openapi and asyncapi agree on the ${what}`, a && b && JSON.stringify(shape(a)) === JSON.stringify(shape(b)),
        { openapi: shape(a), asyncapi: shape(b) });
    }
  }

  // ---- the prose links the documents ----
  const read = (file) => fs.readFileSync(path.join(ROOT, file), "utf8");
  check("docs/api.md links openapi.yaml", read("docs/api.md").includes("(openapi.yaml)"));
  check("docs/protocol.md links asyncapi.yaml", read("docs/protocol.md").includes("(asyncapi.yaml)"));
  check("README links both documents",
    read("README.md").includes("(docs/openapi.yaml)") && read("README.md").includes("(docs/asyncapi.yaml)"));
}

main()
  .then(() => process.exit(finish()))
  .catch((error) => {
    console.error(error);
    check("documents test ran to the end", false, error.message);
    process.exit(finish());
  });
