// The TypeScript client's story against a live otoq: openapi-typescript's types for the spec,
// openapi-fetch for the calls. Compiled strictly (tsc) then run by scripts/contract.sh with
// OTOQ_BASE (the server's root URL) and OTOQ_KEY (a Pro account's API key).
import createClient from "openapi-fetch";
import type { paths } from "./schema.js";

const base = process.env.OTOQ_BASE ?? "";
const key = process.env.OTOQ_KEY ?? "";
const client = createClient<paths>({
  baseUrl: `${base}/api/v1`,
  headers: { Authorization: `Bearer ${key}` },
});

function ok<T>(r: { data?: T; error?: unknown; response: Response }, what: string): T {
  if (r.data === undefined) {
    throw new Error(`${what}: HTTP ${r.response.status} ${JSON.stringify(r.error)}`);
  }
  return r.data;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
// `since` / `from` as a client sends them: an ISO date-time a minute back.
const start = new Date(Date.now() - 60_000).toISOString();

const agent = ok(await client.POST("/agents", { body: { name: "TypeScript story" } }), "create agent").data;
const source = ok(
  await client.POST("/agents/{id}/sources", {
    params: { path: { id: agent.id } },
    body: {
      type: "text",
      title: "Returns",
      content: "You can return any unused item within 30 days of delivery for a full refund.",
    },
  }),
  "add a text source",
).data;
for (let i = 0; ; i++) {
  const s = ok(await client.GET("/sources/{id}", { params: { path: { id: source.id } } }), "get source").data;
  if (s.status === "ready") break;
  if (s.status === "failed" || i > 600) throw new Error(`source did not become ready: ${JSON.stringify(s)}`);
  await sleep(100);
}
const reply = ok(
  await client.POST("/chat", {
    body: { agent_id: agent.id, message: "How many days do I have to return an item?" },
  }),
  "chat",
);
// The operation documents a JSON reply and an event stream; without `stream` it is JSON.
if (typeof reply.data !== "object" || !reply.data.response) throw new Error(`no reply: ${JSON.stringify(reply)}`);
const lead = ok(
  await client.POST("/leads", {
    body: { agent_id: agent.id, email: "ts-story@example.com", name: "TS Story" },
  }),
  "create a lead",
).data;
const leads = ok(await client.GET("/leads", { params: { query: { since: start } } }), "list leads since").data;
if (!leads.some((l) => l.id === lead.id)) throw new Error("the new lead is not listed since the start");
const end = new Date(Date.now() + 60_000).toISOString();
const figures = ok(
  await client.GET("/analytics", { params: { query: { agent_id: agent.id, from: start, to: end } } }),
  "analytics from/to",
).data;
if (figures.total_conversations < 1) throw new Error(`analytics: ${JSON.stringify(figures)}`);
ok(await client.PUT("/webhook", { body: { url: "http://127.0.0.1:9/story-hook" } }), "set the webhook");
ok(await client.DELETE("/agents/{id}", { params: { path: { id: agent.id } } }), "delete the agent");
const gone = await client.GET("/agents/{id}", { params: { path: { id: agent.id } } });
if (gone.response.status !== 404) throw new Error(`deleted agent answers ${gone.response.status}`);
console.log("typescript story: ok");
