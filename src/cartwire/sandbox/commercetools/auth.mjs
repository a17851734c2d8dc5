// OAuth 2 as the real commercetools auth service does it (gaps 1-5).
//
// The mock accepts any client, reads `scope` only from the query string,
// returns a refresh token for client credentials, never expires tokens and
// mints tokens with "+/=". We answer POST /oauth/token ourselves (in a root
// preHandler, before the mock's handler) and check bearer tokens on API routes
// against our own token map. The mock's other OAuth routes (password,
// anonymous, refresh_token) still run after our client check; tokens they mint
// are captured into our map (captureMockToken) so they work on API routes.
import { randomBytes } from "node:crypto";

// Permissions a scope may name. Generous (the spec has more), but a scope must
// still be `{permission}:{projectKey}` or `{permission}:{projectKey}:{storeKey}`.
const RESOURCES = [
	"products",
	"orders",
	"customers",
	"categories",
	"product_types",
	"standalone_prices",
	"channels",
	"key_value_documents",
	"shipping_methods",
	"tax_categories",
	"discount_codes",
	"cart_discounts",
	"payments",
	"shopping_lists",
	"stores",
	"types",
	"states",
	"project_settings",
	"import_containers",
	"attribute_groups",
	"product_selections",
	"product_discounts",
	"business_units",
	"associate_roles",
	"quotes",
	"quote_requests",
	"staged_quotes",
	"recurring_orders",
	"reviews",
	"zones",
	"extensions",
	"subscriptions",
	"api_clients",
	"audit_log",
	"connectors",
	"checkout_transactions",
	"sessions",
	"order_edits",
	"carts",
	"approval_rules",
	"approval_flows",
	"discount_groups",
	"recurrence_policies",
	"inventory",
	"product_tailoring",
	"my_orders",
	"my_profile",
	"my_shopping_lists",
	"my_payments",
	"my_quotes",
	"my_quote_requests",
	"my_business_units",
	"my_carts",
];
export const PERMISSIONS = new Set([
	"manage_project",
	"view_project",
	"view_published_products",
	"view_messages",
	"manage_subscriptions",
	"view_subscriptions",
	"introspect_oauth_tokens",
	"create_anonymous_token",
	"manage_extensions",
	"manage_api_clients",
	"view_api_clients",
	"manage_my_orders",
	"manage_my_profile",
	"manage_my_shopping_lists",
	"manage_my_payments",
	"manage_my_quotes",
	"manage_my_quote_requests",
	"manage_my_business_units",
	"view_orders_of_all_stores",
	...RESOURCES.flatMap((r) => [`view_${r}`, `manage_${r}`]),
]);

const KEY = /^[A-Za-z0-9_-]{2,256}$/;

// -- real-shaped error bodies ------------------------------------------------

/** An AuthErrorResponse: ErrorResponse plus OAuth's error / error_description. */
export const authErrorBody = (statusCode, code, message, withDescription = true) => ({
	statusCode,
	message,
	errors: [{ code, message }],
	error: code,
	...(withDescription ? { error_description: message } : {}),
});

const INVALID_CLIENT = "Please provide valid client credentials using HTTP Basic Authentication.";
const INVALID_SCOPE = "Malformed parameter: scope: Invalid scope.";
const MISSING_TOKEN =
	"This endpoint requires an access token. You can get one from the authorization service.";

// -- tokens --------------------------------------------------------------------

export class TokenStore {
	constructor({ clientId, clientSecret, projectKey, lifetime }) {
		this.clientId = clientId;
		this.clientSecret = clientSecret;
		this.projectKey = projectKey;
		this.lifetime = lifetime; // seconds, for tokens issued from now on
		this.tokens = new Map(); // access token -> { expiresAt (ms), scope, clientId }
		this.issued = 0;
	}

	/** Mint a URL-safe token (32 base64url chars) valid for the current lifetime. */
	issue(scope) {
		const accessToken = randomBytes(24).toString("base64url");
		this.remember(accessToken, scope, this.lifetime);
		return { access_token: accessToken, token_type: "Bearer", expires_in: this.lifetime, scope };
	}

	remember(accessToken, scope, lifetime) {
		// Drop expired tokens now and then so the map cannot grow without bound.
		if (++this.issued % 1000 === 0) {
			const now = Date.now();
			for (const [token, entry] of this.tokens) if (entry.expiresAt <= now) this.tokens.delete(token);
		}
		this.tokens.set(accessToken, {
			expiresAt: Date.now() + lifetime * 1000,
			scope,
			clientId: this.clientId,
		});
	}

	/** The live entry of a bearer token, or null when unknown or expired. */
	lookup(accessToken) {
		const entry = this.tokens.get(accessToken);
		if (!entry) return null;
		if (entry.expiresAt <= Date.now()) {
			this.tokens.delete(accessToken);
			return null;
		}
		return entry;
	}

	/** Client id from an HTTP Basic header, or null unless it is our client with its secret. */
	checkBasic(header) {
		if (typeof header !== "string") return null;
		const m = /^\s*basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
		if (!m) return null;
		const decoded = Buffer.from(m[1], "base64").toString("utf8");
		const colon = decoded.indexOf(":");
		if (colon < 0) return null;
		const id = decoded.slice(0, colon);
		const secret = decoded.slice(colon + 1);
		// RFC 6749 says to form-encode both before base64; most clients do not.
		// Accept either spelling.
		if (id === this.clientId && secret === this.clientSecret) return id;
		if (formDecode(id) === this.clientId && formDecode(secret) === this.clientSecret) {
			return this.clientId;
		}
		return null;
	}

	/**
	 * Validate a requested scope string. Returns the granted scope (the request,
	 * whitespace collapsed; our client's own scope when none was asked for) or
	 * null when it is malformed or names another project.
	 */
	grantScope(requested) {
		const text = (Array.isArray(requested) ? requested.join(" ") : (requested ?? ""))
			.toString()
			.trim()
			.replace(/\s+/g, " ");
		if (text === "") return `manage_project:${this.projectKey}`;
		for (const scope of text.split(" ")) {
			const parts = scope.split(":");
			if (parts.length < 2 || parts.length > 3) return null;
			const [permission, projectKey, storeKey] = parts;
			if (!PERMISSIONS.has(permission)) return null;
			if (projectKey !== this.projectKey) return null;
			if (storeKey !== undefined && !KEY.test(storeKey)) return null;
		}
		return text;
	}

	/** Project keys a granted scope string covers. */
	static projectsOf(scope) {
		const keys = new Set();
		for (const s of scope.split(" ")) {
			const parts = s.split(":");
			if (parts.length >= 2 && PERMISSIONS.has(parts[0])) keys.add(parts[1]);
		}
		return keys;
	}
}

const formDecode = (s) => {
	try {
		return decodeURIComponent(s.replace(/\+/g, " "));
	} catch {
		return null;
	}
};

const first = (value) => (Array.isArray(value) ? value[0] : value);

// -- the handlers ----------------------------------------------------------------

/**
 * Root preHandler part for every /oauth/* request. Answers POST /oauth/token
 * completely (returns true when it replied); for the mock's other OAuth routes
 * it only enforces our client credentials.
 */
export const handleOAuth = (tokens, request, reply) => {
	const clientId = tokens.checkBasic(request.headers.authorization);
	if (!clientId) {
		reply.code(401).send(authErrorBody(401, "invalid_client", INVALID_CLIENT));
		return true;
	}
	request.credentials = { clientId, clientSecret: "" };
	if (request.routeOptions.url !== "/oauth/token") return false; // the mock's route

	// Parameters may come as a form body (official SDKs) or in the query
	// string (the spec, Airbyte); the form body wins when both are present.
	const body = request.body && typeof request.body === "object" ? request.body : {};
	const query = request.query ?? {};
	const param = (name) => first(body[name] ?? query[name]);

	const grantType = param("grant_type");
	if (!grantType) {
		const message = "Missing required parameter: grant_type.";
		reply.code(400).send(authErrorBody(400, "invalid_request", message));
		return true;
	}
	if (grantType === "refresh_token") return false; // the mock's refresh flow
	if (grantType !== "client_credentials") {
		const message = `Invalid parameter: grant_type: Invalid grant type: ${grantType}`;
		reply.code(400).send(authErrorBody(400, "unsupported_grant_type", message));
		return true;
	}

	const scope = tokens.grantScope(body.scope ?? query.scope);
	if (scope === null) {
		reply.code(400).send(authErrorBody(400, "invalid_scope", INVALID_SCOPE));
		return true;
	}
	reply.code(200).header("cache-control", "no-store").send(tokens.issue(scope));
	return true;
};

/** onSend part: register tokens minted by the mock's own OAuth routes. */
export const captureMockToken = (tokens, payload) => {
	try {
		const token = JSON.parse(payload);
		if (token?.access_token && !tokens.tokens.has(token.access_token)) {
			tokens.remember(token.access_token, token.scope ?? "", token.expires_in ?? tokens.lifetime);
		}
	} catch {
		// not JSON: nothing to capture
	}
};

/**
 * Root preHandler part for API routes: a live bearer token for this project.
 * Returns true when it replied with an error.
 */
export const checkBearer = (tokens, projectKey, request, reply) => {
	const header = request.headers.authorization;
	const m = typeof header === "string" ? /^\s*bearer\s+(\S+)\s*$/i.exec(header) : null;
	if (!m) {
		reply.code(401).send(authErrorBody(401, "invalid_token", MISSING_TOKEN, false));
		return true;
	}
	const entry = tokens.lookup(m[1]);
	if (!entry) {
		reply.code(401).send(authErrorBody(401, "invalid_token", "invalid_token", false));
		return true;
	}
	if (projectKey && !TokenStore.projectsOf(entry.scope).has(projectKey)) {
		const message = `Insufficient scope. One of the following scopes is missing: manage_project:${projectKey}`;
		reply.code(403).send(authErrorBody(403, "insufficient_scope", message));
		return true;
	}
	// The mock fills createdBy/lastModifiedBy from this.
	request.credentials = { clientId: entry.clientId, clientSecret: "" };
	return false;
};
