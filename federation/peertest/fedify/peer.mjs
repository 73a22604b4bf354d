// A small ActivityPub peer built with Fedify, used by Hanse's federation
// interoperability test (federation/peertest). It serves one Person, "peer",
// on plain http://127.0.0.1:<port>, auto-accepts follows, records everything
// its inbox receives, serves the notes it posted (/notes/{id}) and their
// Creates (/notes/{id}/activity), and offers a tiny control API to the test:
//
//   POST /control/follow {"handle": "user@host:port"}  look the handle up and send Follow
//   POST /control/post {"to": "<group IRI>", "content": "…"}  send Create{Note} to a
//                                                      group (FEP-1b12: to the group, cc Public,
//                                                      audience and a Mention of the group)
//   GET  /control/inbox                                 activities received (JSON list)
//   GET  /control/followers                             follower actor IRIs (JSON list)
//   GET  /control/following                             {actor IRI: "pending" | "accepted"}
//   GET  /control/log                                   warnings and errors (JSON list)
//   GET  /control/requests                              HTTP exchanges in and out, with signature scheme
//
// Usage: node peer.mjs <port>. Prints "ready <base URL>" on stdout once it
// listens; exits on SIGTERM/SIGINT. PEER_LOG_LEVEL (default "warning")
// sets how much of Fedify's own log goes to stderr and /control/log.
import { createServer } from "node:http";
import { randomUUID } from "node:crypto";
import process from "node:process";
import {
  createFederation,
  InProcessMessageQueue,
  MemoryKvStore,
} from "@fedify/fedify";
import {
  Accept,
  Announce,
  Create,
  Delete,
  Endpoints,
  Follow,
  isActor,
  Mention,
  Note,
  Person,
  PUBLIC_COLLECTION,
  Undo,
} from "@fedify/fedify/vocab";
import { configure, getLogger } from "@logtape/logtape";

const port = Number.parseInt(process.argv[2] ?? "", 10);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  process.stderr.write("usage: node peer.mjs <port>\n");
  process.exit(2);
}
const base = `http://127.0.0.1:${port}`;
const IDENTIFIER = "peer";

// ---- state the control API exposes -------------------------------------

/** Everything the inbox received, in arrival order. */
const inbox = [];
/** Followers of the peer: actor IRI → inbox IRI. */
const followers = new Map();
/** Actors the peer follows: actor IRI → "pending" | "accepted". */
const following = new Map();
/** Notes the peer published: id → Note, served at /notes/{id}. */
const notes = new Map();
/** Their Create activities: id → Create, served at /notes/{id}/activity
 * (Fedify does not trust an object embedded by another server: a group's
 * Announce{Create} makes the receiver fetch the Create from its origin). */
const creates = new Map();
/** Warnings and errors from Fedify and the listeners. */
const log = [];
/** HTTP exchanges in both directions, with the signature scheme used. */
const requests = [];

/** sigScheme names the HTTP signature scheme a request's headers carry. */
function sigScheme(headers) {
  if (headers.get("signature-input") != null) return "rfc9421";
  if (headers.get("signature") != null) return "draft-cavage";
  if (/^signature /i.test(headers.get("authorization") ?? "")) return "draft-cavage";
  return "none";
}

// Record every outgoing request Fedify makes (deliveries, lookups), so the
// test can show which signature scheme Hanse accepted.
const plainFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const request = new Request(input, init);
  const entry = { dir: "out", method: request.method, url: request.url, sig: sigScheme(request.headers), status: null };
  requests.push(entry);
  try {
    const response = await plainFetch(request);
    entry.status = response.status;
    return response;
  } catch (e) {
    entry.status = `error: ${e?.message ?? e}`;
    throw e;
  }
};

function note(level, message) {
  const line = `${new Date().toISOString()} ${level} ${message}`;
  log.push(line);
  process.stderr.write(line + "\n");
}

const logLevel = process.env.PEER_LOG_LEVEL || "warning";
await configure({
  sinks: {
    collect(record) {
      const text = record.message
        .map((part) => (typeof part === "string" ? part : safeJSON(part)))
        .join("");
      note(record.level, `[${record.category.join(".")}] ${text}`);
    },
  },
  loggers: [
    { category: "fedify", sinks: ["collect"], lowestLevel: logLevel },
    { category: ["logtape", "meta"], sinks: ["collect"], lowestLevel: "error" },
  ],
});
const logger = getLogger(["fedify", "peertest"]);

function safeJSON(v) {
  try {
    if (v instanceof Error) return `${v.name}: ${v.message}`;
    if (v instanceof URL) return v.href;
    return typeof v === "object" ? JSON.stringify(v) : String(v);
  } catch {
    return String(v);
  }
}

// ---- federation --------------------------------------------------------

// A 2048-bit RSA key (what Mastodon uses): Fedify signs HTTP requests with
// RFC 9421 rsa-v1_5-sha256 first and falls back to draft-cavage rsa-sha256.
const keyPair = await crypto.subtle.generateKey(
  {
    name: "RSASSA-PKCS1-v1_5",
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: "SHA-256",
  },
  true,
  ["sign", "verify"],
);

const federation = createFederation({
  kv: new MemoryKvStore(),
  queue: new InProcessMessageQueue(),
  origin: base,
  allowPrivateAddress: true,
  onOutboxError(error, activity) {
    note("error", `outbox: ${activity?.id?.href ?? "?"}: ${safeJSON(error)}`);
  },
});

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== IDENTIFIER) return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Fedify test peer",
      summary: "A Fedify peer in Hanse's federation test suite.",
      inbox: ctx.getInboxUri(identifier),
      outbox: ctx.getOutboxUri(identifier),
      followers: ctx.getFollowersUri(identifier),
      following: ctx.getFollowingUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      manuallyApprovesFollowers: false,
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((k) => k.multikey),
    });
  })
  .mapHandle((_ctx, username) => (username === IDENTIFIER ? IDENTIFIER : null))
  .setKeyPairsDispatcher((_ctx, identifier) =>
    identifier === IDENTIFIER ? [keyPair] : []
  );

federation.setFollowersDispatcher(
  "/users/{identifier}/followers",
  (_ctx, identifier) => {
    if (identifier !== IDENTIFIER) return null;
    return {
      items: [...followers].map(([id, inboxId]) => ({
        id: new URL(id),
        inboxId: new URL(inboxId),
        endpoints: null,
      })),
    };
  },
).setCounter((_ctx, identifier) =>
  identifier === IDENTIFIER ? followers.size : null
);

federation.setFollowingDispatcher(
  "/users/{identifier}/following",
  (_ctx, identifier) => {
    if (identifier !== IDENTIFIER) return null;
    const items = [...following]
      .filter(([, state]) => state === "accepted")
      .map(([id]) => new URL(id));
    return { items };
  },
);

federation.setOutboxDispatcher(
  "/users/{identifier}/outbox",
  (_ctx, identifier) => (identifier === IDENTIFIER ? { items: [] } : null),
);

federation.setObjectDispatcher(Note, "/notes/{id}", (_ctx, values) => notes.get(values.id) ?? null);
federation.setObjectDispatcher(Create, "/notes/{id}/activity", (_ctx, values) => creates.get(values.id) ?? null);

/** record appends a summary of a received activity to the inbox list. */
async function record(ctx, activity, extra = {}) {
  let json = null;
  try {
    json = await activity.toJsonLd({ format: "compact", contextLoader: ctx.contextLoader });
  } catch (e) {
    note("warning", `cannot serialise ${activity.id?.href}: ${safeJSON(e)}`);
  }
  inbox.push({
    type: activity.constructor.typeId?.href?.split("#").pop() ?? "Activity",
    id: activity.id?.href ?? null,
    actor: activity.actorId?.href ?? null,
    object: activity.objectId?.href ?? null,
    ...extra,
    json,
  });
}

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Follow, async (ctx, follow) => {
    await record(ctx, follow);
    if (follow.id == null || follow.actorId == null || follow.objectId == null) return;
    const parsed = ctx.parseUri(follow.objectId);
    if (parsed?.type !== "actor" || parsed.identifier !== IDENTIFIER) return;
    const follower = await follow.getActor(ctx);
    if (!isActor(follower) || follower.inboxId == null) {
      note("warning", `follow ${follow.id.href}: cannot resolve actor ${follow.actorId.href}`);
      return;
    }
    followers.set(follower.id.href, follower.inboxId.href);
    await ctx.sendActivity(
      { identifier: IDENTIFIER },
      follower,
      new Accept({
        id: new URL(`${base}/accepts/${randomUUID()}`),
        actor: ctx.getActorUri(IDENTIFIER),
        object: follow,
        to: follower.id,
      }),
    );
  })
  .on(Accept, async (ctx, accept) => {
    await record(ctx, accept);
    if (accept.actorId != null && following.has(accept.actorId.href)) {
      following.set(accept.actorId.href, "accepted");
    }
  })
  .on(Create, async (ctx, create) => {
    const object = await create.getObject(ctx);
    const objectType = object?.constructor?.typeId?.href?.split("#").pop() ?? null;
    const content = object?.content == null ? null : String(object.content);
    await record(ctx, create, { objectType, content });
  })
  .on(Announce, async (ctx, announce) => {
    // A group's boost: the object is a Create (FEP-1b12), a Delete (a
    // moderator's removal) or the post itself (Mastodon compatibility).
    let objectType = null;
    let innerObject = null;
    let content = null;
    try {
      const object = await announce.getObject(ctx);
      objectType = object?.constructor?.typeId?.href?.split("#").pop() ?? null;
      if (object instanceof Create) {
        innerObject = object.objectId?.href ?? null;
        const inner = await object.getObject(ctx);
        content = inner?.content == null ? null : String(inner.content);
      } else if (object instanceof Delete) {
        innerObject = object.objectId?.href ?? null;
      } else if (object != null) {
        innerObject = object.id?.href ?? null;
        content = object.content == null ? null : String(object.content);
      }
    } catch (e) {
      note("warning", `announce ${announce.id?.href}: cannot read its object: ${safeJSON(e)}`);
    }
    await record(ctx, announce, { objectType, innerObject, content });
  })
  .on(Delete, async (ctx, del) => {
    await record(ctx, del);
  })
  .on(Undo, async (ctx, undo) => {
    await record(ctx, undo);
    const object = await undo.getObject(ctx);
    if (object instanceof Follow && undo.actorId != null) {
      followers.delete(undo.actorId.href);
    }
  })
  .onUnverifiedActivity((_ctx, activity, reason) => {
    note("error", `unverified activity ${activity.id?.href}: ${safeJSON(reason)}`);
  })
  .onError((_ctx, error) => {
    note("error", `inbox listener: ${safeJSON(error)}`);
  });

// ---- control API -------------------------------------------------------

/** webfinger resolves user@host:port over plain http, as the test federation runs. */
async function webfinger(handle) {
  const h = handle.replace(/^@/, "").replace(/^acct:/, "");
  const at = h.lastIndexOf("@");
  if (at <= 0) throw new Error(`not a handle: ${handle}`);
  const host = h.slice(at + 1);
  // Fedify's lookupWebFinger always uses https for acct: resources; the test
  // federation is plain http on loopback, so query it directly.
  const url = `http://${host}/.well-known/webfinger?resource=${encodeURIComponent("acct:" + h)}`;
  const res = await fetch(url, { headers: { Accept: "application/jrd+json" } });
  if (!res.ok) throw new Error(`WebFinger ${url}: ${res.status} ${await res.text()}`);
  const jrd = await res.json();
  const self = (jrd.links ?? []).find((l) =>
    l.rel === "self" &&
    (l.type === "application/activity+json" ||
      (l.type ?? "").startsWith("application/ld+json"))
  );
  if (self?.href == null) throw new Error(`WebFinger ${url}: no rel=self link in ${JSON.stringify(jrd)}`);
  return self.href;
}

async function control(req, body, ctx) {
  const path = new URL(req.url, base).pathname;
  if (req.method === "GET" && path === "/control/inbox") return [200, inbox];
  if (req.method === "GET" && path === "/control/followers") return [200, [...followers.keys()]];
  if (req.method === "GET" && path === "/control/following") return [200, Object.fromEntries(following)];
  if (req.method === "GET" && path === "/control/log") return [200, log];
  if (req.method === "GET" && path === "/control/requests") return [200, requests];
  if (req.method === "POST" && path === "/control/follow") {
    const { handle } = JSON.parse(body.toString("utf8") || "{}");
    const iri = await webfinger(String(handle ?? ""));
    const actor = await ctx.lookupObject(iri);
    if (!isActor(actor)) return [502, { error: `${iri} is not an actor` }];
    following.set(actor.id.href, "pending");
    const follow = new Follow({
      id: new URL(`${base}/follows/${randomUUID()}`),
      actor: ctx.getActorUri(IDENTIFIER),
      object: actor.id,
      to: actor.id,
    });
    await ctx.sendActivity({ identifier: IDENTIFIER }, actor, follow);
    return [202, { actor: actor.id.href, follow: follow.id.href }];
  }
  if (req.method === "POST" && path === "/control/post") {
    const { to, content } = JSON.parse(body.toString("utf8") || "{}");
    const group = await ctx.lookupObject(String(to ?? ""));
    if (!isActor(group)) return [502, { error: `${to} is not an actor` }];
    const id = randomUUID();
    const noteId = new URL(`${base}/notes/${id}`);
    const post = new Note({
      id: noteId,
      attribution: ctx.getActorUri(IDENTIFIER),
      to: group.id,
      ccs: [PUBLIC_COLLECTION, ctx.getFollowersUri(IDENTIFIER)],
      audience: group.id,
      content: String(content ?? ""),
      url: noteId,
      tags: [new Mention({ href: group.id, name: `@${group.preferredUsername}` })],
    });
    notes.set(id, post);
    const create = new Create({
      id: new URL(`${base}/notes/${id}/activity`),
      actor: ctx.getActorUri(IDENTIFIER),
      object: post,
      to: group.id,
      ccs: [PUBLIC_COLLECTION, ctx.getFollowersUri(IDENTIFIER)],
      audience: group.id,
    });
    creates.set(id, create);
    await ctx.sendActivity({ identifier: IDENTIFIER }, group, create);
    return [202, { note: noteId.href, create: create.id.href }];
  }
  return [404, { error: `no control route ${req.method} ${path}` }];
}

// ---- HTTP --------------------------------------------------------------

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function sendJSON(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(body);
}

const server = createServer(async (req, res) => {
  try {
    const body = await readBody(req);
    if (req.url.startsWith("/control/")) {
      const ctx = federation.createContext(new URL(base), undefined);
      const [status, value] = await control(req, body, ctx);
      sendJSON(res, status, value);
      return;
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (Array.isArray(value)) value.forEach((v) => headers.append(name, v));
      else if (value != null) headers.set(name, value);
    }
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    const request = new Request(new URL(req.url, base), {
      method: req.method,
      headers,
      body: hasBody ? body : undefined,
    });
    const entry = { dir: "in", method: req.method, url: request.url, sig: sigScheme(headers), status: null };
    requests.push(entry);
    const response = await federation.fetch(request, {
      contextData: undefined,
      onNotFound: () => new Response("Not Found", { status: 404 }),
      onNotAcceptable: () => new Response("Not Acceptable", { status: 406 }),
    });
    entry.status = response.status;
    const out = Buffer.from(await response.arrayBuffer());
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(out);
  } catch (e) {
    logger.error("request {method} {url} failed: {error}", { method: req.method, url: req.url, error: e });
    note("error", `${req.method} ${req.url}: ${e?.stack ?? e}`);
    if (!res.headersSent) sendJSON(res, 500, { error: String(e?.message ?? e) });
    else res.end();
  }
});

server.listen(port, "127.0.0.1", () => {
  process.stdout.write(`ready ${base}\n`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections?.();
    process.exit(0);
  });
}
