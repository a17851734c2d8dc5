// Products kept as JSON text instead of object graphs.
//
// A product is by far the biggest resource (variants × prices × attributes,
// and the API shows masterData.current and .staged side by side). As objects,
// 100,000 products take ~6 KB each in V8; as one-byte JSON text with the
// shared current/staged data stored once, ~3 KB. Serving a page then is string
// concatenation instead of JSON.stringify over 500 object graphs.
//
// A PackedProduct carries the product's top-level scalar fields (id, key,
// version, createdAt, lastModifiedAt, priceMode) as plain properties, so
// predicates and sorts that only touch those run on it directly; anything else
// is evaluated on unpack(), a fresh full copy (JSON.parse).
//
// The record marks itself with an enumerable symbol. The mock's product
// repository copies query results with `{...resource, reviewRatingStatistics}`,
// which keeps the mark, and our reply serializer (serializePayload) then
// writes the stored JSON text instead of stringifying.

export const PACKED = Symbol("cartwire.packed");

/** Top-level product fields a PackedProduct answers for itself. */
export const PRODUCT_LIGHT_FIELDS = new Set([
	"id",
	"key",
	"version",
	"createdAt",
	"lastModifiedAt",
	"priceMode",
]);

const SENTINEL = "\u0001cartwire:current\u0001";
const SENTINEL_JSON = JSON.stringify(SENTINEL);

export class PackedProduct {
	constructor(product) {
		for (const field of PRODUCT_LIGHT_FIELDS) {
			const value = product[field];
			if (value !== undefined && (value === null || typeof value !== "object")) {
				// Bulk loads create many products per millisecond: share timestamps.
				this[field] = field.endsWith("At") ? sharedTimestamp(value) : value;
			}
		}
		const data = product.masterData;
		this.$published = data?.published === true;
		this.$skus = [...new Set(productSkus(product))].join("\n"); // one string, not an array
		if (data?.current && data.current === data.staged) {
			// Shared current/staged (as the mock creates products): store once.
			const masterData = {};
			for (const key of Object.keys(data)) {
				masterData[key] = key === "current" || key === "staged" ? SENTINEL : data[key];
			}
			this.$data = JSON.stringify(data.current);
			this.$shell = JSON.stringify({ ...product, masterData });
		} else {
			this.$data = null;
			this.$shell = JSON.stringify(product);
		}
		this[PACKED] = this;
	}

	/** The product's JSON text, as the API shows it. */
	json() {
		return this.$data === null ? this.$shell : this.$shell.split(SENTINEL_JSON).join(this.$data);
	}

	/** A fresh, fully separate copy of the product (current and staged distinct). */
	unpack() {
		return JSON.parse(this.json());
	}
}

let lastTimestamps = new Map();
const sharedTimestamp = (value) => {
	const known = lastTimestamps.get(value);
	if (known !== undefined) return known;
	if (lastTimestamps.size >= 10_000) lastTimestamps = new Map(); // only recent ones repeat
	lastTimestamps.set(value, value);
	return value;
};

/** The SKUs a PackedProduct was indexed under. */
export const packedSkus = (packed) => (packed.$skus === "" ? [] : packed.$skus.split("\n"));

/** SKUs of a product (current and staged), from a full product object. */
export function* productSkus(product) {
	const data = product.masterData;
	if (!data) return;
	for (const projection of data.current === data.staged ? [data.current] : [data.current, data.staged]) {
		if (!projection) continue;
		if (projection.masterVariant?.sku) yield projection.masterVariant.sku;
		for (const v of projection.variants ?? []) if (v?.sku) yield v.sku;
	}
}

const recordJson = (value) => {
	const packed = value[PACKED];
	if (value.reviewRatingStatistics !== undefined) {
		// The repository added review statistics: merge them in (rare).
		const full = packed.unpack();
		full.reviewRatingStatistics = value.reviewRatingStatistics;
		return JSON.stringify(full);
	}
	return packed.json();
};

/**
 * Fastify reply serializer: JSON.stringify, except that packed products (alone
 * or in a paged response's `results`) are written from their stored text.
 */
export const serializePayload = (payload) => {
	if (payload !== null && typeof payload === "object") {
		if (payload[PACKED]) return recordJson(payload);
		const results = payload.results;
		if (Array.isArray(results) && results.length > 0 && results[0]?.[PACKED]) {
			const { results: _, ...head } = payload;
			const parts = results.map((r) => (r?.[PACKED] ? recordJson(r) : JSON.stringify(r)));
			const headJson = JSON.stringify(head);
			const prefix = headJson === "{}" ? "{" : `${headJson.slice(0, -1)},`;
			return `${prefix}"results":[${parts.join(",")}]}`;
		}
	}
	return JSON.stringify(payload);
};

// Words of the predicate language, so lightSafe() can tell them from fields.
const KEYWORDS = new Set([
	"and",
	"or",
	"not",
	"in",
	"contains",
	"all",
	"any",
	"is",
	"empty",
	"defined",
	"within",
	"circle",
	"matches",
	"ignore",
	"case",
	"true",
	"false",
]);

/**
 * True when the predicates only name fields in `fields` (so they can run on a
 * PackedProduct): string literals and :variables are ignored, every other
 * identifier must be a keyword or one of the fields.
 */
export const lightSafe = (predicates, fields) => {
	for (const predicate of predicates) {
		const bare = predicate.replace(/"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|:[-_A-Za-z0-9]+/g, " ");
		for (const [word] of bare.matchAll(/[A-Za-z_][-_A-Za-z0-9]*/g)) {
			if (!KEYWORDS.has(word.toLowerCase()) && !fields.has(word)) return false;
		}
	}
	return true;
};
