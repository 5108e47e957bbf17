// Baseline for the fan-out benchmark: a minimal node `ws` server that every
// interval broadcasts the same samples frame as hostpulse (a frame captured
// from it, with this tick's seq and time) to every connected client.
//
//   node bench/ws_broadcaster.mjs PORT INTERVAL_MS TEMPLATE_FILE
import { readFileSync } from "node:fs";
import { WebSocketServer } from "ws";

const [port, intervalMs, templatePath] = process.argv.slice(2);
const captured = readFileSync(templatePath, "utf8");
const rest = captured.slice(captured.indexOf('"series":'));
const server = new WebSocketServer({ host: "127.0.0.1", port: Number(port), perMessageDeflate: false,
                                     backlog: 4096, clientTracking: true });
let seq = 0;
const period = Number(intervalMs);
let deadline = Date.now() + period;
function tick() {
  seq += 1;
  const frame = `{"type":"samples","sub":1,"seq_first":${seq},"seq_last":${seq},"t":[${Date.now()}],${rest}`;
  // One Buffer for every client, like hostpulse's encode-once.
  const bytes = Buffer.from(frame);
  for (const client of server.clients) {
    if (client.readyState === 1) client.send(bytes, { binary: false });
  }
  deadline += period;
  setTimeout(tick, Math.max(0, deadline - Date.now()));
}
setTimeout(tick, period);
server.on("listening", () => process.stderr.write(`ws_broadcaster: listening on 127.0.0.1:${port}\n`));
