// The README's HTTP quick start through a client that Flywheel did not write: types generated from the server's own
// OpenAPI document by openapi-typescript, calls made by openapi-fetch. OpenApiToolsTests generates
// generated/flywheel.d.ts, compiles this file with tsc (strict) and runs it against a real server.
// Usage: node generated/js/quickstart.js http://127.0.0.1:5005   (exits 1 on any mismatch)
import createClient from "openapi-fetch";
import type { paths } from "./generated/flywheel.js";

const baseUrl = process.argv[2];
if (!baseUrl) {
  console.error("usage: quickstart <server url>");
  process.exit(2);
}
const flywheel = createClient<paths>({ baseUrl });
const failures: string[] = [];
let checks = 0;

function check(what: string, actual: unknown, expected: unknown): void {
  checks++;
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    failures.push(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

// Every body is read as the type the document declares, so tsc checks each field this file touches: a body described
// without a schema would be `unknown` here and fail the compile.
type Body<T> = T;

// Fails the run unless the call answered `status` with a body; returns the body.
async function expect<D>(what: string, status: number, call: Promise<{ data?: D; error?: unknown; response: Response }>): Promise<Body<D>> {
  const { data, error, response } = await call;
  if (response.status !== status || data === undefined) {
    console.error(`${what}: expected ${status}, got ${response.status} ${JSON.stringify(error ?? data)}`);
    process.exit(1);
  }
  return data as Body<D>;
}

const loop = { path: { loop: "home-feed" } };

// 1. Create the loop.
const config = await expect("PUT /v1/loops/home-feed", 200, flywheel.PUT("/v1/loops/{loop}", {
  params: loop,
  body: {
    signals: {
      watch_complete: { kind: "implicit", weight: 1.0 },
      skip: { kind: "implicit", weight: -0.5, closesWindow: true },
      thumbs_up: { kind: "explicit", weight: 1.0 },
    },
  },
}));
check("loop id", config.id, "home-feed");
check("loop kind", config.kind, "choose");
check("skip closes the window", config.signals?.skip?.closesWindow, true);

// 2. Decide: the answer holds the action to show and the probability of each action.
const decision = await expect("POST decide", 200, flywheel.POST("/v1/loops/{loop}/decide", {
  params: loop,
  body: {
    decisionId: "d-1",
    userId: "u-42",
    context: { user: { country: "fr" }, time: { hour: 20 } },
    actions: [
      { id: "v1", features: { item: { topic: "cooking", length_s: 35 } } },
      { id: "v2", features: { item: { topic: "diy", length_s: 12 } } },
    ],
  },
}));
check("decision id", decision.decisionId, "d-1");
check("chosen action is one of those offered", ["v1", "v2"].includes(decision.chosenActionId), true);
const ranked: string[] = [];
let total = 0;
for (const r of decision.ranking ?? []) {
  ranked.push(r.actionId);
  total += r.probability;
}
check("ranking covers the actions", ranked.sort(), ["v1", "v2"]);
check("probabilities sum to 1", Math.abs(total - 1) < 1e-9, true);

// 3. Send what the user did (202: stored, idempotent on signalId).
const receipt = await expect("POST signals", 202, flywheel.POST("/v1/loops/{loop}/signals", {
  params: loop,
  body: { signals: [{ signalId: "s-1", decisionId: "d-1", type: "watch_complete" }] },
}));
check("signals accepted", receipt.accepted, 1);
check("signals duplicated", receipt.duplicates, 0);

// 4. Read the decision back with its signals.
const audit = await expect("GET decision", 200, flywheel.GET("/v1/loops/{loop}/decisions/{decisionId}", {
  params: { path: { loop: "home-feed", decisionId: "d-1" } },
}));
check("audit decision id", audit.decisionId, "d-1");
check("audit user", audit.userId, "u-42");
check("audit chosen action", audit.chosenActionId, decision.chosenActionId);
const signals: string[][] = [];
for (const s of audit.signals ?? []) {
  signals.push([s.signalId, s.type]);
}
check("audit signals", signals, [["s-1", "watch_complete"]]);

// An unknown decision answers a typed problem naming the field.
const missing = await flywheel.GET("/v1/loops/{loop}/decisions/{decisionId}", {
  params: { path: { loop: "home-feed", decisionId: "d-unknown" } },
});
check("unknown decision status", missing.response.status, 404);
check("unknown decision problem status", missing.error?.status, 404);
check("unknown decision content type", missing.response.headers.get("content-type")?.split(";")[0], "application/problem+json");

if (failures.length > 0) {
  console.error(`quickstart: ${failures.length} of ${checks} checks failed`);
  for (const failure of failures) {
    console.error(`  ${failure}`);
  }
  process.exit(1);
}
console.log(`quickstart: ${checks} checks passed`);
