// The sandbox admin API (docs/sandbox.md), shared in shape with the Commerce
// Layer sandbox: health, counters, faults (and the requests they hold), reset,
// config and bulk load. Admin requests are never counted and never hit by faults.
import { randomUUID } from "node:crypto";
import { canonicalDateTime } from "./dates.mjs";
import { codeForStatus, errorBody } from "./gaps.mjs";
import { CommercetoolsError } from "./mock-internals.mjs";
import { requestContext } from "./request-context.mjs";
import { authErrorBody } from "./auth.mjs";

export const ADMIN_PREFIX = "/_sandbox/";
const TOKEN_PATH = "/oauth/token";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const isPlainObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

// Bulk-load types: the mock repository type plus a few friendly aliases.
const TYPE_ALIASES = {
	"custom-object": "key-value-document",
	inventory: "inventory-entry",
};
// Repositories whose create() builds a fresh object and only returns it, so the
// storage may pack that object directly and skip copying the return value.
const TRUSTED_TYPES = new Set([
	"product",
	"product-type",
	"category",
	"channel",
	"tax-category",
	"customer-group",
	"customer",
	"inventory-entry",
	"standalone-price",
	"order",
	"store",
	"zone",
	"state",
	"type",
]);

// Messages for injected faults: commercetools-shaped bodies per status.
const FAULT_MESSAGES = {
	400: "Injected fault: bad request.",
	401: "invalid_token",
	403: "Insufficient scope.",
	404: "The Resource was not found.",
	409: "Object has a different version than expected.",
	429: "Too many requests. Please retry later.",
	500: "Write operations are temporarily unavailable.",
	502: "Bad gateway: the service is scaling. Please retry with exponential backoff.",
	503: "The service is temporarily over capacity. Please retry with exponential backoff.",
	504: "Gateway timeout. Please retry.",
};

export class Admin {
	/**
	 * @param {object} deps
	 *   storage, repositories, projectKey, clientId, tokens (TokenStore),
	 *   startLifetime, baselineProject (Project snapshot restored on reset)
	 */
	constructor(deps) {
		Object.assign(this, deps);
		this.faults = [];
		// Requests a `hold` fault keeps waiting, by id, until /_sandbox/release, a
		// reset or the server's stop lets them carry on: a test acts while one is in
		// flight without racing a window of real time.
		this.held = new Map();
		this.closed = false;
		this.resetCounters();
	}

	resetCounters() {
		this.counters = { token_requests: 0, api_requests: 0, paths: {} };
	}

	/** Wait until released (at once when the server is stopping). */
	hold(fault, method, path) {
		if (this.closed) return Promise.resolve();
		const id = randomUUID();
		return new Promise((resolve) => this.held.set(id, { id, fault: fault.id, method, path, resolve }));
	}

	/** Let one held request (or, without an id, all) carry on; their ids, or null for an unknown id. */
	release(id) {
		if (id !== undefined && !this.held.has(id)) return null;
		const chosen = id === undefined ? [...this.held.values()] : [this.held.get(id)];
		for (const held of chosen) {
			this.held.delete(held.id);
			held.resolve();
		}
		return chosen.map((held) => held.id);
	}

	/** The server is stopping: release everything, now and from now on. */
	close() {
		this.closed = true;
		this.release();
	}

	// -- the onRequest hook: counters then faults ----------------------------------

	/**
	 * Count a non-admin request and apply the first matching armed fault.
	 * Returns "replied" when the fault answered (or dropped) the request.
	 */
	async onRequest(request, reply) {
		const path = request.url.split("?")[0];
		const method = request.method;
		if (method === "POST" && path === TOKEN_PATH) this.counters.token_requests++;
		else this.counters.api_requests++;
		const key = `${method} ${path}`;
		this.counters.paths[key] = (this.counters.paths[key] ?? 0) + 1;

		const fault = this.faults.find(
			(f) => (!f.method || f.method === method) && (!f.pathRegex || f.pathRegex.test(path)),
		);
		if (!fault) return null;
		if (--fault.count <= 0) this.faults.splice(this.faults.indexOf(fault), 1);

		if (fault.hold) await this.hold(fault, method, path);
		if (fault.delay) await sleep(fault.delay * 1000);
		if (fault.drop) {
			// Close the connection without any response.
			reply.hijack();
			request.raw.socket?.destroy();
			return "replied";
		}
		if (fault.status) {
			const status = fault.status;
			const message = FAULT_MESSAGES[status] ?? `Injected fault: HTTP ${status}.`;
			const code = codeForStatus(status);
			const body = path.startsWith("/oauth/")
				? authErrorBody(status, code, message)
				: errorBody(status, code, message);
			if (fault.retry_after !== undefined) reply.header("retry-after", String(fault.retry_after));
			reply.code(status).send(body);
			return "replied";
		}
		return null; // hold or delay only: carry on normally
	}

	// -- routes -----------------------------------------------------------------

	register(app) {
		app.get("/_sandbox/health", async () => ({ status: "ok", platform: "commercetools" }));

		app.get("/_sandbox/counters", async () => this.counters);
		app.delete("/_sandbox/counters", async (request, reply) => {
			this.resetCounters();
			return reply.code(204).send();
		});

		app.post("/_sandbox/faults", async (request, reply) => {
			const fault = parseFault(request.body);
			if (typeof fault === "string") return reply.code(400).send(errorBody(400, "InvalidInput", fault));
			this.faults.push(fault);
			return reply.code(201).send({ id: fault.id });
		});
		app.get("/_sandbox/faults", async () => this.faults.map(describeFault));
		app.delete("/_sandbox/faults", async (request, reply) => {
			this.faults = [];
			return reply.code(204).send();
		});

		app.get("/_sandbox/held", async () =>
			[...this.held.values()].map(({ id, fault, method, path }) => ({ id, fault, method, path })),
		);
		app.post("/_sandbox/release", async (request, reply) => {
			const body = request.body ?? {};
			const known = isPlainObject(body) && Object.keys(body).every((name) => name === "id");
			if (!known || (body.id !== undefined && typeof body.id !== "string")) {
				const message = 'Expected {} (release all) or {"id": "<held request id>"}.';
				return reply.code(400).send(errorBody(400, "InvalidInput", message));
			}
			const released = this.release(body.id);
			if (released === null) {
				const message = `No request ${body.id} is held.`;
				return reply.code(404).send(errorBody(404, "ResourceNotFound", message));
			}
			return { released };
		});

		app.post("/_sandbox/reset", async (request, reply) => {
			await this.reset();
			return reply.code(204).send();
		});

		app.get("/_sandbox/config", async () => this.config());
		app.patch("/_sandbox/config", async (request, reply) => {
			const body = request.body;
			if (!isPlainObject(body)) {
				return reply.code(400).send(errorBody(400, "InvalidInput", "Expected a JSON object."));
			}
			for (const [name, value] of Object.entries(body)) {
				if (name !== "token_lifetime") {
					return reply.code(400).send(errorBody(400, "InvalidInput", `Unknown setting '${name}'.`));
				}
				if (!Number.isInteger(value) || value < 1) {
					const message = "token_lifetime must be a positive integer (seconds).";
					return reply.code(400).send(errorBody(400, "InvalidInput", message));
				}
			}
			if (body.token_lifetime !== undefined) this.tokens.lifetime = body.token_lifetime;
			return this.config();
		});

		app.post("/_sandbox/load", async (request, reply) => {
			const body = request.body;
			if (!isPlainObject(body) || typeof body.type !== "string" || !Array.isArray(body.drafts)) {
				const message = 'Expected {"type": "<resource type>", "drafts": [...]}.';
				return reply.code(400).send(errorBody(400, "InvalidInput", message));
			}
			let timestamp;
			if (body.timestamp !== undefined) {
				timestamp = canonicalDateTime(body.timestamp);
				if (!timestamp) {
					const message = "timestamp must be an ISO 8601 date-time, e.g. 2026-01-01T00:00:00.000Z.";
					return reply.code(400).send(errorBody(400, "InvalidInput", message));
				}
			}
			const loaded = await this.load(TYPE_ALIASES[body.type] ?? body.type, body.drafts, timestamp);
			if (loaded.error) return reply.code(loaded.error.statusCode).send(loaded.error);
			return { loaded: loaded.count };
		});
	}

	config() {
		return { token_lifetime: this.tokens.lifetime };
	}

	/** Empty project (settings as at start-up), no faults, zero counters, start config. */
	async reset() {
		await this.storage.clear();
		for (const key of Object.keys(this.storage.projects)) {
			if (key !== this.projectKey) delete this.storage.projects[key];
		}
		await this.storage.saveProject(this.baselineProject);
		this.faults = [];
		this.release();
		this.resetCounters();
		this.tokens.lifetime = this.startLifetime;
	}

	/**
	 * Create each draft through the mock's own repository (same shapes as the
	 * API, references by key resolved by the mock), in a trusted context so the
	 * storage skips the defensive copies. With a `timestamp`, every loaded
	 * object gets it as createdAt and lastModifiedAt (many records sharing one
	 * instant, which a real project has after a bulk import). Stops at the first
	 * failing draft: { error } names its index; earlier drafts stay loaded.
	 */
	async load(type, drafts, timestamp) {
		const repository = type === "product-projection" ? undefined : this.repositories[type];
		if (!repository || typeof repository.create !== "function") {
			const message = `Unknown resource type '${type}' for /_sandbox/load.`;
			return { error: errorBody(400, "InvalidInput", message) };
		}
		const context = { projectKey: this.projectKey, clientId: this.clientId };
		const create =
			type === "order"
				? (draft) => repository.import(context, draft)
				: (draft) => repository.create(context, draft);
		const store = { trusted: TRUSTED_TYPES.has(type), timestamp };
		return requestContext.run(store, async () => {
			for (let i = 0; i < drafts.length; i++) {
				try {
					await create(drafts[i]);
				} catch (err) {
					const status = err instanceof CommercetoolsError ? err.statusCode : 400;
					const inner =
						err instanceof CommercetoolsError
							? err.errors?.length
								? err.errors
								: [err.info]
							: [{ code: "InvalidInput", message: String(err?.message ?? err) }];
					const message = `${type} draft #${i} was not loaded (${i} loaded before it): ${inner[0]?.message ?? err.message}`;
					return {
						error: { statusCode: status, message, errors: inner, loaded: i },
					};
				}
			}
			return { count: drafts.length };
		});
	}
}

/** Validate a fault body; returns the armed fault or an error message. */
const parseFault = (body) => {
	if (!isPlainObject(body)) return "A fault must be a JSON object.";
	const known = new Set(["method", "path", "count", "status", "retry_after", "delay", "drop", "hold"]);
	for (const name of Object.keys(body)) if (!known.has(name)) return `Unknown fault field '${name}'.`;
	const fault = { id: randomUUID(), count: 1, drop: false, hold: false };
	if (body.method !== undefined) {
		if (typeof body.method !== "string" || !body.method) return "method must be a string.";
		fault.method = body.method.toUpperCase();
	}
	if (body.path !== undefined) {
		if (typeof body.path !== "string") return "path must be a regular expression string.";
		try {
			fault.pathRegex = new RegExp(body.path);
		} catch (err) {
			return `path is not a valid regular expression: ${err.message}`;
		}
		fault.path = body.path;
	}
	if (body.count !== undefined) {
		if (!Number.isInteger(body.count) || body.count < 1) return "count must be a positive integer.";
		fault.count = body.count;
	}
	if (body.status !== undefined && body.status !== null) {
		if (!Number.isInteger(body.status) || body.status < 400 || body.status > 599) {
			return "status must be an HTTP error status (400-599).";
		}
		fault.status = body.status;
	}
	if (body.retry_after !== undefined && body.retry_after !== null) {
		if (typeof body.retry_after !== "number" || body.retry_after < 0) {
			return "retry_after must be a non-negative number of seconds.";
		}
		fault.retry_after = body.retry_after;
	}
	if (body.delay !== undefined && body.delay !== null) {
		if (typeof body.delay !== "number" || body.delay < 0 || body.delay > 600) {
			return "delay must be a number of seconds between 0 and 600.";
		}
		fault.delay = body.delay;
	}
	if (body.drop !== undefined) {
		if (typeof body.drop !== "boolean") return "drop must be a boolean.";
		fault.drop = body.drop;
	}
	if (body.hold !== undefined) {
		if (typeof body.hold !== "boolean") return "hold must be a boolean.";
		fault.hold = body.hold;
	}
	if (!fault.status && !fault.drop && !fault.delay && !fault.hold) {
		return "A fault needs status, drop, delay or hold.";
	}
	return fault;
};

const describeFault = (f) => ({
	id: f.id,
	method: f.method ?? null,
	path: f.path ?? null,
	count: f.count,
	status: f.status ?? null,
	retry_after: f.retry_after ?? null,
	delay: f.delay ?? null,
	drop: f.drop,
	hold: f.hold,
});
