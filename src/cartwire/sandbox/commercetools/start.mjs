#!/usr/bin/env node
// cartwire's commercetools sandbox: the third-party @labdigital/commercetools-mock
// (an in-memory commercetools API on Fastify) served on loopback, with the gaps
// between it and the real API closed from the outside: hooks on its Fastify
// app, a faster storage subclass and a few repository methods replaced on the
// instances. node_modules is never patched. See docs/sandbox.md for the admin
// API and /work/shared/facts/commercetools.md §3.5 for the gaps.
//
// Environment:
//   CARTWIRE_CT_PORT (required)        CARTWIRE_CT_HOST (default 127.0.0.1)
//   CARTWIRE_CT_CLIENT_ID (required)   CARTWIRE_CT_CLIENT_SECRET (required)
//   CARTWIRE_CT_PROJECT_KEY (default cartwire-sandbox)
//   CARTWIRE_CT_TOKEN_LIFETIME seconds (default 172800)
//   CARTWIRE_CT_LOG=1 logs requests (silent otherwise)
import v8 from "node:v8";
import { CommercetoolsMock } from "@labdigital/commercetools-mock";
import { installMissingActions } from "./actions.mjs";
import { Admin, ADMIN_PREFIX } from "./admin.mjs";
import { captureMockToken, checkBearer, handleOAuth, TokenStore } from "./auth.mjs";
import { FastInMemoryStorage } from "./fast-storage.mjs";
import { serializePayload } from "./packed.mjs";
import {
	errorBody,
	installErrorBodies,
	installOrderImport,
	installProjectionQuery,
	installStandalonePriceDraft,
	readDeleteVersion,
	readQueryOptions,
} from "./gaps.mjs";
import { requestContext } from "./request-context.mjs";

// -- configuration -------------------------------------------------------------

const env = process.env;
const fail = (message) => {
	process.stderr.write(`cartwire-ct-sandbox: ${message}\n`);
	process.exit(2);
};
const host = env.CARTWIRE_CT_HOST || "127.0.0.1";
const port = Number(env.CARTWIRE_CT_PORT);
if (!env.CARTWIRE_CT_PORT || !Number.isInteger(port) || port < 0 || port > 65535) {
	fail("CARTWIRE_CT_PORT must be set to a port number");
}
const projectKey = env.CARTWIRE_CT_PROJECT_KEY || "cartwire-sandbox";
const clientId = env.CARTWIRE_CT_CLIENT_ID;
const clientSecret = env.CARTWIRE_CT_CLIENT_SECRET;
if (!clientId || !clientSecret) fail("CARTWIRE_CT_CLIENT_ID and CARTWIRE_CT_CLIENT_SECRET must be set");
const lifetime = Number(env.CARTWIRE_CT_TOKEN_LIFETIME || 172800);
if (!Number.isInteger(lifetime) || lifetime < 1) fail("CARTWIRE_CT_TOKEN_LIFETIME must be a positive integer");
const verbose = env.CARTWIRE_CT_LOG === "1";

// With CARTWIRE_CT_LOG=1, request logs go to stderr (stdout carries only the
// "listening" line), through pino, the logger the mock and Fastify already use.
// If pino is not resolvable from here, the mock logs to stdout instead.
async function stderrLogger() {
	try {
		const { default: pino } = await import("pino");
		return pino({ level: "info" }, pino.destination(2));
	} catch {
		return undefined;
	}
}

// -- the mock, on our storage --------------------------------------------------

// Grow the V8 heap by 15% per step instead of V8's default (up to 2x): a bulk
// load of 100,000 products then ends near 600 MB RSS instead of 800-900 MB, at
// the cost of a few more (cheap, mostly young-generation) collections.
v8.setFlagsFromString("--heap-growing-percent=15");

const storage = new FastInMemoryStorage();
const mock = new CommercetoolsMock({
	storage,
	defaultProjectKey: projectKey,
	strict: true, // validate drafts like the real API (400 InvalidJsonInput)
	silent: !verbose,
	logger: verbose ? await stderrLogger() : undefined,
	enableAuthentication: false, // we check bearer tokens ourselves (auth.mjs)
	validateCredentials: false,
});
const app = mock.app;
const repositories = mock._repositories; // private in TypeScript only

installProjectionQuery(repositories, storage); // fast product-projections query
installOrderImport(repositories, storage); // completedAt & co., orderNumber uniqueness
installStandalonePriceDraft(repositories, storage); // key, channel by key
installErrorBodies(app); // commercetools error bodies, 404 for unknown routes
installMissingActions(repositories); // update actions the real API has and the mock lacks
app.setReplySerializer(serializePayload); // packed products are written from their stored JSON

// Project settings, through the mock's own project update actions.
const projectRepository = repositories.project;
{
	const context = { projectKey };
	const project = await projectRepository.get(context);
	await projectRepository.processUpdateActions(context, project, project.version, [
		{ action: "changeName", name: "cartwire sandbox" },
		{ action: "changeLanguages", languages: ["en", "de"] },
		{ action: "changeCurrencies", currencies: ["EUR", "USD", "GBP"] },
		{ action: "changeCountries", countries: ["DE", "US", "GB"] },
	]);
}
const baselineProject = await storage.getProject(projectKey);

const tokens = new TokenStore({ clientId, clientSecret, projectKey, lifetime });
const admin = new Admin({
	storage,
	repositories,
	projectKey,
	clientId,
	tokens,
	startLifetime: lifetime,
	baselineProject,
});

// -- hooks -----------------------------------------------------------------------

const isAdmin = (request) => request.url.startsWith(ADMIN_PREFIX);
const isOAuth = (request) => request.url.startsWith("/oauth/");

app.decorateRequest("cartwireContext", null);

// 1. Counters and faults, before anything else (the token endpoint included).
app.addHook("onRequest", async (request, reply) => {
	if (isAdmin(request)) return;
	if ((await admin.onRequest(request, reply)) === "replied") return reply;
});

// 2. Auth, parameter checks, and the per-request context for the storage.
//    preValidation runs after body parsing but before any preHandler, so we
//    answer before the mock's own OAuth hook (which accepts any client).
app.addHook("preValidation", async (request, reply) => {
	if (isAdmin(request)) return;
	if (isOAuth(request)) {
		if (handleOAuth(tokens, request, reply)) return reply;
		return;
	}
	const routeProject = request.params?.projectKey;
	if (checkBearer(tokens, routeProject, request, reply)) return reply;

	const context = {};
	if (request.method === "GET" || request.method === "HEAD") {
		const { error, options } = readQueryOptions(request.query ?? {});
		if (error) return reply.code(400).send(errorBody(400, "InvalidInput", error));
		context.query = options;
	} else if (request.method === "DELETE") {
		const { error, version } = readDeleteVersion(request);
		if (error) return reply.code(400).send(errorBody(400, "InvalidInput", error));
		context.deleteVersion = version;
	}
	request.cartwireContext = context;
});

// 3. Run every project route's handler inside its request context.
app.addHook("onRoute", (route) => {
	if (!route.url?.startsWith("/:projectKey")) return;
	const handler = route.handler;
	route.handler = function (request, reply) {
		const context = request.cartwireContext;
		return context
			? requestContext.run(context, () => handler.call(this, request, reply))
			: handler.call(this, request, reply);
	};
});

// 4. Responses: HEAD of an empty query is 404; tokens the mock's own OAuth
//    routes mint are remembered so they work on API routes.
app.addHook("onSend", async (request, reply, payload) => {
	if (isAdmin(request) || typeof payload !== "string") return payload;
	if (isOAuth(request)) {
		if (reply.statusCode === 200) captureMockToken(tokens, payload);
		return payload;
	}
	if (request.method === "HEAD" && reply.statusCode === 200 && payload.startsWith("{")) {
		try {
			if (JSON.parse(payload).count === 0) reply.code(404);
		} catch {
			// not a query response
		}
	}
	return payload;
});

admin.register(app);

// -- run -------------------------------------------------------------------------

let closing = false;
const shutdown = () => {
	if (closing) return;
	closing = true;
	admin.close(); // held requests would keep app.close() waiting
	setTimeout(() => process.exit(0), 3000).unref(); // do not wait on stuck clients
	app.close().then(
		() => process.exit(0),
		() => process.exit(0),
	);
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

await app.listen({ host, port });
const address = app.server.address();
process.stdout.write(`cartwire-ct-sandbox listening on http://${host}:${address.port}\n`);
