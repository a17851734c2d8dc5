// Smaller gaps between the mock and the real API, each closed from the outside.
import { CommercetoolsError } from "./mock-internals.mjs";
import { pagedResponse } from "./fast-storage.mjs";
import { takeQueryOptions } from "./request-context.mjs";

const first = (value) => (Array.isArray(value) ? value[0] : value);

/** A commercetools ErrorResponse body. */
export const errorBody = (statusCode, code, message, extra = {}) => ({
	statusCode,
	message,
	errors: [{ code, message, ...extra }],
});

// -- gaps 6, 7, 8: paging, sort and withTotal parameters -------------------------

const MAX_LIMIT = 500;
const MAX_OFFSET = 10_000;
const SORT = /^[A-Za-z0-9_.-]+(\s+(asc|desc))?$/i;

const boundedInt = (name, raw, max) => {
	if (raw === undefined) return { value: undefined };
	if (Array.isArray(raw) || typeof raw !== "string" || !/^-?\d+$/.test(raw.trim())) {
		return { error: `Malformed parameter: ${name}: Invalid int.` };
	}
	const value = Number(raw);
	if (value < 0 || value > max) {
		return { error: `The query parameter '${name}' must be between 0 and ${max}.` };
	}
	return { value };
};

/** Parse a boolean query value case-insensitively (the Python SDK sends "False"). */
export const parseBool = (raw, fallback) => {
	const value = first(raw);
	if (value === undefined) return fallback;
	if (typeof value === "boolean") return value;
	const text = String(value).trim().toLowerCase();
	if (text === "true") return true;
	if (text === "false") return false;
	return null;
};

/**
 * Validate limit/offset/sort/withTotal of a GET. Returns { error } with a 400
 * message, or the query options the storage needs ({ sort, withTotal }).
 */
export const readQueryOptions = (query) => {
	for (const [name, max] of [
		["limit", MAX_LIMIT],
		["offset", MAX_OFFSET],
	]) {
		const { error } = boundedInt(name, query[name], max);
		if (error) return { error };
	}
	const withTotal = parseBool(query.withTotal, true);
	if (withTotal === null) return { error: "Malformed parameter: withTotal: Invalid boolean." };
	let sort;
	if (query.sort !== undefined) {
		sort = [].concat(query.sort).map((s) => String(s).trim());
		const bad = sort.find((s) => !SORT.test(s));
		if (bad !== undefined) return { error: `Malformed parameter: sort: Invalid sort expression '${bad}'.` };
	}
	return { options: { sort, withTotal, consumed: false } };
};

// -- gap 10: DELETE needs ?version= ----------------------------------------------

/**
 * For DELETE /{resource}/{id|key=...}: { error } when version is missing or
 * malformed, else { version } (undefined when the route does not need one).
 */
export const readDeleteVersion = (request) => {
	const params = request.params ?? {};
	if (params.id === undefined && params.key === undefined) return {};
	const raw = first(request.query?.version);
	// Custom objects may be deleted without a version (the API makes it optional).
	const optional = (request.routeOptions.url ?? "").includes("/custom-objects/");
	if (raw === undefined) {
		return optional ? {} : { error: "Missing required query parameter 'version'." };
	}
	if (!/^\d+$/.test(String(raw).trim())) return { error: "Malformed parameter: version: Invalid long." };
	return { version: Number(raw) };
};

// -- gap 11 and error bodies: commercetools-shaped errors everywhere -----------------

const CODE_FOR_STATUS = {
	400: "InvalidInput",
	401: "invalid_token",
	403: "insufficient_scope",
	404: "ResourceNotFound",
	405: "InvalidOperation",
	409: "ConcurrentModification",
	413: "InvalidInput",
	415: "InvalidInput",
	429: "TooManyRequests",
	500: "General",
	502: "General",
	503: "OverCapacity",
	504: "General",
};
export const codeForStatus = (status) => CODE_FOR_STATUS[status] ?? (status >= 500 ? "General" : "InvalidInput");

/**
 * Replace the mock's error handler for everything that is not a
 * CommercetoolsError (which the mock already renders correctly): Fastify's own
 * errors and plain exceptions become commercetools ErrorResponses, malformed
 * JSON bodies become 400 InvalidJsonInput as on the real API. Unknown routes get
 * a ResourceNotFound body instead of Fastify's.
 */
export const installErrorBodies = (app) => {
	const mockHandler = app.errorHandler;
	const emitWarning = process.emitWarning;
	process.emitWarning = () => {}; // Fastify warns that we override the handler; we mean to.
	try {
		app.setErrorHandler((error, request, reply) => {
			if (error instanceof CommercetoolsError) return mockHandler(error, request, reply);
			if (error instanceof SyntaxError || error?.code === "FST_ERR_CTP_EMPTY_JSON_BODY") {
				const message = "Request body does not contain valid JSON.";
				return reply.code(400).send(
					errorBody(400, "InvalidJsonInput", message, { detailedErrorMessage: error.message }),
				);
			}
			const status =
				Number.isInteger(error?.statusCode) && error.statusCode >= 400 && error.statusCode < 600
					? error.statusCode
					: 500;
			const message =
				status === 500
					? `Internal server error: ${error?.message ?? String(error)}`
					: (error?.message ?? "Bad request");
			request.log.error({ err: error }, message);
			return reply.code(status).send(errorBody(status, codeForStatus(status), message));
		});
	} finally {
		process.emitWarning = emitWarning;
	}

	app.setNotFoundHandler((request, reply) => {
		const path = request.url.split("?")[0];
		const message = `Route not found: ${request.method} ${path}`;
		reply.code(404).send(errorBody(404, "ResourceNotFound", message));
	});
};

// -- product projections: the fast query path ---------------------------------------

/**
 * The mock's ProductProjectionRepository.query copies and transforms every
 * product on every request. Replace it (on the instance only) with: filter, sort
 * and page through the storage's projection view, then let the original method
 * turn just the page into projections (price selection, review statistics,
 * expand), by making its all("product") call return the page.
 */
export const installProjectionQuery = (repositories, storage) => {
	const repository = repositories["product-projection"];
	const original = repository.query.bind(repository);
	repository.query = async (context, params = {}) => {
		const options = takeQueryOptions() ?? {
			sort: params.sort,
			withTotal: parseBool(params.withTotal, true) !== false,
		};
		const staged = parseBool(params.staged, false) === true;
		const selected = storage.selectProjections(context.projectKey, params, options, staged);
		// The original writes into what it gets (price selection, expand): copies.
		storage.overrideNextAll("product", selected.page.map((p) => storage.materialize(p)));
		const inner = await original(context, {
			...params,
			where: undefined,
			sort: undefined,
			offset: 0,
			limit: Math.max(selected.page.length, 1),
			staged,
		});
		return pagedResponse(selected.limit, selected.offset, inner.results, selected.withTotal, selected.total);
	};
};

// -- order import: fields the mock drops, order number uniqueness -------------------------

// OrderImportDraft fields the mock's import() does not copy onto the Order.
const IMPORT_FIELDS = [
	"completedAt",
	"country",
	"shipmentState",
	"inventoryMode",
	"taxRoundingMode",
	"taxCalculationMode",
	"itemShippingAddresses",
];

export const installOrderImport = (repositories, storage) => {
	const repository = repositories.order;
	const original = repository.import.bind(repository);
	repository.import = async (context, draft) => {
		if (draft?.orderNumber !== undefined) {
			const index = storage.typeStore(context.projectKey, "order").fieldIndex("orderNumber");
			if (index.usable && index.values.has(draft.orderNumber)) {
				throw new CommercetoolsError(
					{
						code: "DuplicateField",
						message: `A duplicate value '"${draft.orderNumber}"' exists for field 'orderNumber'.`,
						field: "orderNumber",
						duplicateValue: draft.orderNumber,
					},
					400,
				);
			}
		}
		const order = await original(context, draft);
		const extra = {};
		for (const field of IMPORT_FIELDS) {
			if (draft?.[field] !== undefined && order[field] === undefined) extra[field] = draft[field];
		}
		if (Object.keys(extra).length) {
			storage.patchStored(context.projectKey, "order", order.id, extra);
			const stored = storage.typeStore(context.projectKey, "order").byId.get(order.id) ?? extra;
			for (const field of Object.keys(extra)) order[field] = stored[field];
		}
		return order;
	};
};

// -- standalone prices: the key the mock drops ------------------------------------------

/**
 * The mock's StandAlonePriceRepository.create copies neither `key` nor a channel given by
 * key; both identify prices on the real API (`key` is what upserts match on, and is unique).
 */
export const installStandalonePriceDraft = (repositories, storage) => {
	const repository = repositories["standalone-price"];
	const original = repository.create.bind(repository);
	repository.create = async (context, draft) => {
		let effective = draft;
		if (draft?.channel && !draft.channel.id) {
			const channel = await storage.getByResourceIdentifier(context.projectKey, draft.channel);
			effective = { ...draft, channel: { typeId: "channel", id: channel.id } };
		}
		const key = draft?.key;
		if (key !== undefined) {
			const index = storage.typeStore(context.projectKey, "standalone-price").fieldIndex("key");
			if (index.usable && index.values.has(key)) {
				throw new CommercetoolsError(
					{
						code: "DuplicateField",
						message: `A duplicate value '"${key}"' exists for field 'key'.`,
						field: "key",
						duplicateValue: key,
					},
					400,
				);
			}
		}
		const price = await original(context, effective);
		if (key !== undefined) {
			storage.patchStored(context.projectKey, "standalone-price", price.id, { key });
			price.key = key;
		}
		return price;
	};
};
