// A faster drop-in for the mock's InMemoryStorage.
//
// The stock storage keeps every object in a StorageMap that deep-copies on every
// read, so one query copies the whole collection (100,000 products → seconds).
// This subclass keeps the same contract (callers always get private copies),
// but a query filters and sorts the stored objects in place and copies only the
// page it returns (or, for an endpoint's own query, hands the page straight to
// the serializer). Predicates are still evaluated by the mock's own parser
// (compiled once per predicate text and cached), so they behave the same.
//
// Indexes, all kept per project and resource type:
//   - ids in sorted order: `id > "x"` + `sort=id asc` (the SDK's keyset walk) is a
//     binary search plus a slice, not a scan;
//   - lazy equality indexes on a few top-level fields (key, email, orderNumber,
//     sku, ...): `key = "x"`, `key in (...)`, the mock's own e-mail uniqueness
//     check and getByKey are O(1) instead of O(n);
//   - a SKU index for products: the mock resolves line items by a fixed
//     `masterData(current(masterVariant(sku="...")))` predicate;
//   - a cache of fully sorted collections per sort specification, dropped on
//     every write to that type.
// Products are stored packed as JSON text (see packed.mjs); everything else as
// compact objects. Query options the mock's services drop (sort, withTotal)
// arrive through the request context (see request-context.mjs).
import { InMemoryStorage } from "@labdigital/commercetools-mock";
import { canonicalDateTime, normalizePredicate, normalizeStoredDates, normalizeVarValue } from "./dates.mjs";
import { CommercetoolsError, parseQueryExpression } from "./mock-internals.mjs";
import { lightSafe, PackedProduct, PRODUCT_LIGHT_FIELDS, packedSkus, productSkus } from "./packed.mjs";
import { isTrusted, loadTimestamp, requestContext, takeQueryOptions } from "./request-context.mjs";

const clone = (o) => JSON.parse(JSON.stringify(o));

/**
 * A memory-compact copy for long-term storage. A JSON round trip gives every
 * object a shared shape and every string a flat representation: objects fresh
 * from the mock are ~40% bigger (Node's randomUUID returns 20-piece rope
 * strings; spreads leave per-object shapes and undefined slots).
 */
const compact = (obj) => intern(clone(obj));

/** What the store keeps for a new object: products packed, the rest compact. */
const pack = (typeId, obj, owned) => {
	const ready = normalizeStoredDates(owned ? obj : { ...obj });
	return typeId === "product" ? new PackedProduct(ready) : compact(ready);
};

/** A private full copy of a stored object, for callers that may change it. */
const unpack = (stored) => (stored instanceof PackedProduct ? stored.unpack() : clone(stored));

/** The stored object itself where possible (read-only use), else a full copy. */
const full = (stored) => (stored instanceof PackedProduct ? stored.unpack() : stored);

// Short repeated strings ("EUR", "centPrecision", "product-type", the client
// id, ...) are shared instead of stored once per object: about 15% of a
// product. The table stops growing at 100,000 distinct values.
const internTable = new Map();
const intern = (value) => {
	if (Array.isArray(value)) {
		for (let i = 0; i < value.length; i++) {
			const v = value[i];
			if (typeof v === "string") value[i] = internString(v);
			else if (v !== null && typeof v === "object") intern(v);
		}
	} else {
		for (const key in value) {
			const v = value[key];
			if (typeof v === "string") value[key] = internString(v);
			else if (v !== null && typeof v === "object") intern(v);
		}
	}
	return value;
};
const internString = (s) => {
	if (s.length > 24) return s;
	const known = internTable.get(s);
	if (known !== undefined) return known;
	if (internTable.size < 100_000) internTable.set(s, s);
	return s;
};

/** commercetools caps `total` at this when a `where` predicate is used. */
export const TOTAL_CAP_WITH_PREDICATE = 10_000;

// Types whose repository's postProcessResource writes into query results
// (category: ancestors; extension: masks secrets), so pages must be copies.
const MUTATED_AFTER_QUERY = new Set(["category", "extension"]);

// Top-level fields worth an equality index (built on first use, then maintained).
const INDEXED_FIELDS = new Set([
	"key",
	"email",
	"lowercaseEmail",
	"orderNumber",
	"sku",
	"customerId",
	"customerEmail",
	"container",
]);

// ---------------------------------------------------------------------------
// Predicate shapes we can answer from an index. Anything else is a scan with
// the mock's matcher. Candidates from an index are still checked by the matcher
// (except id comparisons, which are exact).
const LITERAL = String.raw`(?:"([^"\\]*)"|'([^'\\]*)'|:([-_A-Za-z0-9]+))`;
const ID_COMPARE = new RegExp(String.raw`^\s*id\s*(>=|<=|>|<|=)\s*${LITERAL}\s*$`);
const FIELD_EQUALS = new RegExp(String.raw`^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*${LITERAL}\s*$`);
const FIELD_IN =
	/^\s*([A-Za-z_][A-Za-z0-9_]*)\s+in\s*\(\s*((?:"[^"\\]*"\s*,\s*)*"[^"\\]*")\s*\)\s*$/i;
const SKU_LOOKUP =
	/^\s*masterData\s*\(\s*current\s*\(\s*masterVariant\s*\(\s*sku\s*=\s*"([^"\\]*)"\s*\)\s*\)\s*\)\s+or\s+masterData\s*\(\s*current\s*\(\s*variants\s*\(\s*sku\s*=\s*"([^"\\]*)"\s*\)\s*\)\s*\)\s*$/i;

const literalValue = (m, at, vars) => {
	if (m[at] !== undefined) return m[at];
	if (m[at + 1] !== undefined) return m[at + 1];
	const v = vars[m[at + 2]];
	return typeof v === "string" ? v : undefined; // missing/array var: let the matcher decide
};

// First index whose id is >= value (lowerBound) or > value (upperBound).
const lowerBound = (arr, value) => {
	let lo = 0;
	let hi = arr.length;
	while (lo < hi) {
		const mid = (lo + hi) >>> 1;
		if (arr[mid] < value) lo = mid + 1;
		else hi = mid;
	}
	return lo;
};
const upperBound = (arr, value) => {
	let lo = 0;
	let hi = arr.length;
	while (lo < hi) {
		const mid = (lo + hi) >>> 1;
		if (arr[mid] <= value) lo = mid + 1;
		else hi = mid;
	}
	return lo;
};

// ---------------------------------------------------------------------------
// Sorting: the same value order as the mock's sortParser (numbers, booleans,
// everything else as text with `<`; missing values count as larger), plus
// `id asc` as the final tie-break so equal keys never reorder between pages.

/** Parse `sort` values ("field", "field asc", "a.b.c desc") into clauses. */
export const parseSort = (sort) => {
	if (sort === undefined || sort === null) return [];
	const values = Array.isArray(sort) ? sort : [sort];
	const clauses = [];
	for (const value of values) {
		const [field, direction] = String(value).trim().split(/\s+/);
		if (!field) continue;
		clauses.push({ path: field.split("."), desc: direction?.toLowerCase() === "desc" });
	}
	return clauses;
};

const resolvePath = (obj, path) => {
	let current = obj;
	for (const segment of path) {
		if (current === null || typeof current !== "object") return undefined;
		current = current[segment];
	}
	return current;
};

const compareValues = (left, right) => {
	if (left === undefined || left === null) return right === undefined || right === null ? 0 : 1;
	if (right === undefined || right === null) return -1;
	if (typeof left === "number" && typeof right === "number") return left - right;
	if (typeof left === "boolean" && typeof right === "boolean") return Number(left) - Number(right);
	const l = String(left);
	const r = String(right);
	return l < r ? -1 : l > r ? 1 : 0;
};

const sortObjects = (objects, clauses, target) => {
	const decorated = objects.map((raw) => {
		const value = target ? target(raw) : raw;
		return { raw, keys: clauses.map((c) => resolvePath(value, c.path)) };
	});
	decorated.sort((a, b) => {
		for (let i = 0; i < clauses.length; i++) {
			const result = compareValues(a.keys[i], b.keys[i]);
			if (result !== 0) return clauses[i].desc ? -result : result;
		}
		return a.raw.id < b.raw.id ? -1 : a.raw.id > b.raw.id ? 1 : 0; // tie-break: id asc
	});
	return decorated.map((d) => d.raw);
};

// ---------------------------------------------------------------------------
// One resource type of one project: the stored objects plus their indexes.

class TypeStore {
	constructor(typeId) {
		this.typeId = typeId;
		this.byId = new Map(); // id -> stored object (never handed out)
		this.ids = []; // all ids; sorted when idsSorted
		this.idsSorted = true;
		this.fieldIndexes = new Map(); // field -> { values: Map(value -> Set(id)), usable }
		this.skus = null; // products: sku -> Set(id), built lazily
		this.sortCache = new Map(); // "view|sort spec" -> stored objects in that order
		this.customObjects = typeId === "key-value-document" ? new Map() : null;
	}

	sortedIds() {
		// Bulk inserts only append; TimSort makes the catch-up sort cheap.
		if (!this.idsSorted) {
			this.ids.sort();
			this.idsSorted = true;
		}
		return this.ids;
	}

	put(obj) {
		const id = obj.id;
		const old = this.byId.get(id);
		this.byId.set(id, obj);
		if (!old) {
			if (this.idsSorted && this.ids.length > 0 && id < this.ids[this.ids.length - 1]) {
				this.idsSorted = false;
			}
			this.ids.push(id);
		}
		for (const [field, index] of this.fieldIndexes) {
			if (old) indexRemove(index, old[field], id);
			indexAdd(index, obj[field], id);
		}
		if (this.skus) {
			if (old) for (const sku of skusOf(old)) setRemove(this.skus, sku, id);
			for (const sku of skusOf(obj)) setAdd(this.skus, sku, id);
		}
		if (this.customObjects) {
			if (old) this.customObjects.delete(`${old.container}\0${old.key}`);
			this.customObjects.set(`${obj.container}\0${obj.key}`, id);
		}
		this.sortCache.clear();
	}

	remove(id) {
		const old = this.byId.get(id);
		if (!old) return;
		this.byId.delete(id);
		const ids = this.sortedIds();
		const at = lowerBound(ids, id);
		if (ids[at] === id) ids.splice(at, 1);
		for (const [field, index] of this.fieldIndexes) indexRemove(index, old[field], id);
		if (this.skus) for (const sku of skusOf(old)) setRemove(this.skus, sku, id);
		if (this.customObjects) this.customObjects.delete(`${old.container}\0${old.key}`);
		this.sortCache.clear();
	}

	clear() {
		this.byId.clear();
		this.ids = [];
		this.idsSorted = true;
		this.fieldIndexes.clear();
		this.skus = null;
		this.sortCache.clear();
		this.customObjects?.clear();
	}

	fieldIndex(field) {
		let index = this.fieldIndexes.get(field);
		if (!index) {
			index = { values: new Map(), usable: true };
			for (const obj of this.byId.values()) indexAdd(index, obj[field], obj.id);
			this.fieldIndexes.set(field, index);
		}
		return index;
	}

	skuIndex() {
		if (!this.skus) {
			this.skus = new Map();
			for (const obj of this.byId.values()) {
				for (const sku of skusOf(obj)) setAdd(this.skus, sku, obj.id);
			}
		}
		return this.skus;
	}

	sortedBy(viewKey, clauses, target) {
		const spec = `${viewKey}|${clauses.map((c) => `${c.path.join(".")} ${c.desc ? "desc" : "asc"}`).join(",")}`;
		let sorted = this.sortCache.get(spec);
		if (!sorted) {
			sorted = sortObjects([...this.byId.values()], clauses, target);
			if (this.sortCache.size >= 8) this.sortCache.delete(this.sortCache.keys().next().value);
			this.sortCache.set(spec, sorted);
		}
		return sorted;
	}
}

const setAdd = (map, value, id) => {
	let ids = map.get(value);
	if (!ids) map.set(value, (ids = new Set()));
	ids.add(id);
};
const setRemove = (map, value, id) => {
	const ids = map.get(value);
	if (ids) {
		ids.delete(id);
		if (ids.size === 0) map.delete(value);
	}
};
const indexAdd = (index, value, id) => {
	if (value === undefined || value === null) return;
	if (typeof value === "object") index.usable = false; // arrays match element-wise: scan instead
	else setAdd(index.values, value, id);
};
const indexRemove = (index, value, id) => {
	if (value !== undefined && value !== null && typeof value !== "object") {
		setRemove(index.values, value, id);
	}
};

const skusOf = (stored) => (stored instanceof PackedProduct ? packedSkus(stored) : [...productSkus(stored)]);

/**
 * The product-projection view of a stored product, as the mock's
 * ProductProjectionSearch.transform builds it (minus review statistics, which
 * are added to the returned page only). Used to evaluate predicates and sorts.
 */
export const projectionView = (staged) => (product) => {
	const data = staged ? product.masterData.staged : product.masterData.current;
	return {
		id: product.id,
		createdAt: product.createdAt,
		attributes: data.attributes,
		lastModifiedAt: product.lastModifiedAt,
		version: product.version,
		name: data.name,
		key: product.key,
		description: data.description,
		metaTitle: data.metaTitle,
		metaDescription: data.metaDescription,
		metaKeywords: data.metaKeywords,
		searchKeywords: data.searchKeywords,
		slug: data.slug,
		categories: data.categories,
		masterVariant: data.masterVariant,
		variants: data.variants,
		productType: product.productType,
		taxCategory: product.taxCategory,
		state: product.state,
		priceMode: product.priceMode,
		hasStagedChanges: product.masterData.hasStagedChanges,
		published: product.masterData.published,
	};
};

// ---------------------------------------------------------------------------

export class FastInMemoryStorage extends InMemoryStorage {
	constructor() {
		super();
		this._data = new Map(); // projectKey -> Map(typeId -> TypeStore)
		this._matchers = new Map(); // predicate text -> compiled matcher (LRU)
		this._allOverride = null; // one-shot answer for the next all() (product projections)
	}

	/** The TypeStore of a project/type, creating the project like the mock does. */
	typeStore(projectKey, typeId) {
		if (!this.projects[projectKey]) this.addProject(projectKey); // sync body
		let project = this._data.get(projectKey);
		if (!project) this._data.set(projectKey, (project = new Map()));
		let store = project.get(typeId);
		if (!store) project.set(typeId, (store = new TypeStore(typeId)));
		return store;
	}

	/** Overwrite some fields of a stored object (used to fill what the mock drops). */
	patchStored(projectKey, typeId, id, fields) {
		const store = this.typeStore(projectKey, typeId);
		const current = store.byId.get(id);
		if (current) store.put(pack(typeId, { ...full(current), ...fields }, true));
	}

	/** A private full copy of a stored object (as get() returns it). */
	materialize(stored) {
		return unpack(stored);
	}

	/** Make the next all(projectKey, typeId) call return `items` (consumed at once). */
	overrideNextAll(typeId, items) {
		this._allOverride = { typeId, items };
	}

	// -- AbstractStorage API -------------------------------------------------

	async clear() {
		for (const project of this._data.values()) {
			for (const store of project.values()) store.clear();
		}
		this._matchers.clear();
	}

	async all(projectKey, typeId) {
		const override = this._allOverride;
		if (override) {
			this._allOverride = null;
			if (override.typeId === typeId) return override.items;
		}
		return Array.from(this.typeStore(projectKey, typeId).byId.values(), unpack);
	}

	async count(projectKey, typeId) {
		return this.typeStore(projectKey, typeId).byId.size;
	}

	async add(projectKey, typeId, obj, params = {}) {
		const store = this.typeStore(projectKey, typeId);
		assertUniqueKey(store, obj);
		const timestamp = loadTimestamp();
		if (timestamp) obj.createdAt = obj.lastModifiedAt = timestamp;
		if (isTrusted()) {
			// Bulk load: the object was just built by the mock's repository from a
			// draft nobody else holds; store it packed and hand the original back
			// (the loader ignores it).
			store.put(pack(typeId, obj, true));
			return obj;
		}
		const stored = pack(typeId, obj, false);
		store.put(stored);
		return this.expand(projectKey, unpack(stored), params.expand);
	}

	async get(projectKey, typeId, id, params = {}) {
		const raw = this.typeStore(projectKey, typeId).byId.get(id);
		if (!raw) return null;
		return this.expand(projectKey, unpack(raw), params.expand);
	}

	async getByKey(projectKey, typeId, key, params = {}) {
		const store = this.typeStore(projectKey, typeId);
		const index = store.fieldIndex("key");
		let raw;
		if (index.usable) {
			const ids = index.values.get(key);
			if (ids) raw = store.byId.get(ids.values().next().value);
		} else {
			for (const obj of store.byId.values()) {
				if (obj.key === key) {
					raw = obj;
					break;
				}
			}
		}
		if (!raw) return null;
		return this.expand(projectKey, unpack(raw), params.expand);
	}

	async delete(projectKey, typeId, id, params = {}) {
		const store = this.typeStore(projectKey, typeId);
		const raw = store.byId.get(id);
		if (!raw) return null;
		// DELETE ?version= (gap 10): the hook put the expected version here.
		const context = requestContext.getStore();
		if (context && context.deleteVersion !== undefined) {
			const expected = context.deleteVersion;
			context.deleteVersion = undefined; // only the request's own delete
			if (expected !== raw.version) {
				throw new CommercetoolsError(
					{
						code: "ConcurrentModification",
						message: `Object ${id} has a different version than expected. Expected: ${expected} - Actual: ${raw.version}.`,
						currentVersion: raw.version,
					},
					409,
				);
			}
		}
		store.remove(id);
		return this.expand(projectKey, unpack(raw), params.expand);
	}

	async getByContainerAndKey(projectKey, container, key) {
		const store = this.typeStore(projectKey, "key-value-document");
		const id = store.customObjects.get(`${container}\0${key}`);
		if (!id) return null;
		return unpack(store.byId.get(id));
	}

	async query(projectKey, typeId, params) {
		const options = takeQueryOptions();
		const store = this.typeStore(projectKey, typeId);
		const { page, total, limit, offset, withTotal } = this.select(store, params, options, {});
		// The page of an endpoint's own query goes straight to the serializer:
		// stored objects are never changed in place (updates replace them), so
		// it can be handed out uncopied unless something will modify it (expand,
		// or a repository whose postProcessResource writes into the resource).
		// Internal look-ups by the mock's repositories always get copies.
		// (Packed products go out as their stored JSON: see serializePayload.)
		if (options && params.expand === undefined && !MUTATED_AFTER_QUERY.has(typeId)) {
			return pagedResponse(limit, offset, page, withTotal, total);
		}
		let results = page.map(unpack);
		if (params.expand !== undefined) {
			results = await Promise.all(results.map((r) => this.expand(projectKey, r, params.expand)));
		}
		return pagedResponse(limit, offset, results, withTotal, total);
	}

	/**
	 * Product projections: filter/sort/page stored products through the
	 * projection view. Returns the stored products of the page (callers copy
	 * them with materialize()).
	 */
	selectProjections(projectKey, params, options, staged) {
		const store = this.typeStore(projectKey, "product");
		return this.select(store, params, options, {
			view: projectionView(staged),
			viewKey: staged ? "projection-staged" : "projection-current",
			accept: staged ? null : (product) => product.$published === true,
		});
	}

	// -- the query engine ----------------------------------------------------

	/**
	 * Filter, sort and page one type. `params` carries where, var.*, limit and offset
	 * (and sort/withTotal when called directly); `options` the request's sort and
	 * withTotal. `view` maps a (full) stored object to what predicates and sorts
	 * see; `accept` pre-filters stored objects. Packed products are unpacked for
	 * a predicate or sort only when it names more than their top-level scalars.
	 */
	select(store, params, options, { view = null, viewKey = "", accept = null }) {
		const limit = params.limit ?? 20;
		const offset = params.offset ?? 0;
		const withTotal = options ? options.withTotal : params.withTotal !== false;
		const clauses = parseSort(options ? options.sort : params.sort);
		const vars = {};
		for (const key in params) {
			if (key.startsWith("var.")) vars[key.slice(4)] = normalizeVarValue(params[key]);
		}
		const wheres = (params.where === undefined ? [] : [].concat(params.where)).map(normalizePredicate);

		try {
			const plan = planQuery(store, wheres, vars);
			const match = plan.rest.length ? this.compile(plan.rest) : null;
			// What predicates and sorts are evaluated on: the stored object, or
			// (packed products, unless only light fields are named) a full copy,
			// through the view if there is one.
			const light = store.typeId === "product" ? PRODUCT_LIGHT_FIELDS : null;
			const evaluator = (needsFull) =>
				needsFull ? (raw) => (view ? view(full(raw)) : full(raw)) : view && !light ? view : null;
			const matchOn = evaluator(light !== null && !lightSafe(plan.rest, light));
			const sortOn = evaluator(
				light !== null && clauses.some((c) => c.path.length !== 1 || !light.has(c.path[0])),
			);
			const end = offset + limit;
			const cap = wheres.length ? TOTAL_CAP_WITH_PREDICATE : Number.POSITIVE_INFINITY;
			const idSort =
				clauses.length === 1 && clauses[0].path.length === 1 && clauses[0].path[0] === "id";
			// Walking the sorted id index applies the id range by itself; any other
			// walk has to check it per object.
			const walkIds = !plan.ids && (idSort || (plan.range && clauses.length === 0));
			const rangeCheck = plan.range && !walkIds;
			const test =
				match || accept || rangeCheck
					? (raw) =>
							(!rangeCheck || plan.inRange(raw.id)) &&
							(!accept || accept(raw)) &&
							(!match || match(matchOn ? matchOn(raw) : raw, vars))
					: null;

			let page;
			let total;
			if (plan.ids) {
				// Few candidates from an index: check, sort and slice them directly.
				let found = plan.ids.map((id) => store.byId.get(id)).filter(Boolean);
				if (test) found = found.filter(test);
				if (clauses.length) found = sortObjects(found, clauses, sortOn);
				page = found.slice(offset, end);
				total = found.length;
			} else {
				// Walk a sequence that is already in the requested order.
				let sequence; // array of stored objects, or an iterable
				let from = 0;
				let to;
				let reverse = false;
				let ids = null;
				if (walkIds) {
					ids = store.sortedIds();
					[from, to] = plan.bounds(ids);
					reverse = idSort && clauses[0].desc;
				} else if (clauses.length === 0) {
					sequence = store.byId.values();
				} else {
					sequence = store.sortedBy(sortOn ? `${viewKey}:full` : viewKey, clauses, sortOn);
					to = sequence.length;
				}

				if (!test && (ids || Array.isArray(sequence))) {
					// Everything in range matches: slice without looking at objects.
					const size = Math.max(0, to - from);
					const a = Math.min(offset, size);
					const b = Math.min(end, size);
					page = [];
					for (let i = a; i < b; i++) {
						const at = reverse ? to - 1 - i : from + i;
						page.push(ids ? store.byId.get(ids[at]) : sequence[at]);
					}
					total = size;
				} else {
					page = [];
					let n = 0;
					const visit = (raw) => {
						if (test && !test(raw)) return false;
						if (n >= offset && n < end) page.push(raw);
						n++;
						// Stop once the page is full, unless a total is wanted (capped).
						return n >= end && (!withTotal || n >= cap);
					};
					if (ids) {
						if (reverse) {
							for (let i = to - 1; i >= from; i--) if (visit(store.byId.get(ids[i]))) break;
						} else {
							for (let i = from; i < to; i++) if (visit(store.byId.get(ids[i]))) break;
						}
					} else if (Array.isArray(sequence)) {
						for (let i = 0; i < sequence.length; i++) if (visit(sequence[i])) break;
					} else {
						for (const raw of sequence) if (visit(raw)) break;
					}
					total = n;
				}
			}
			return { page, total: Math.min(total, cap), limit, offset, withTotal };
		} catch (err) {
			if (err instanceof CommercetoolsError) throw err;
			// The mock's PredicateError (not an Error subclass) or a matcher failure.
			throw new CommercetoolsError({ code: "InvalidInput", message: err?.message ?? String(err) }, 400);
		}
	}

	/** Compile predicates with the mock's parser, caching by text (LRU, 1000). */
	compile(wheres) {
		const key = wheres.join("\n\u0000\n");
		let matcher = this._matchers.get(key);
		if (matcher) {
			this._matchers.delete(key);
		} else {
			matcher = parseQueryExpression(wheres.length === 1 ? wheres[0] : wheres);
			if (this._matchers.size >= 1000) this._matchers.delete(this._matchers.keys().next().value);
		}
		this._matchers.set(key, matcher);
		return matcher;
	}
}

/**
 * Keys are unique per resource type on the real API (the mock only checks
 * customer e-mails). Custom objects are keyed per container, so not here.
 */
const assertUniqueKey = (store, obj) => {
	if (store.typeId === "key-value-document" || obj.key === undefined || obj.key === null) return;
	const index = store.fieldIndex("key");
	if (!index.usable) return;
	for (const other of index.values.get(obj.key) ?? []) {
		if (other !== obj.id) {
			throw new CommercetoolsError(
				{
					code: "DuplicateField",
					message: `A duplicate value '${JSON.stringify(obj.key)}' exists for field 'key'.`,
					field: "key",
					duplicateValue: obj.key,
				},
				400,
			);
		}
	}
};

/**
 * Split predicates into index look-ups and the rest. Returns candidate ids (or
 * null for "all"), an id range, and the predicates left for the matcher.
 */
const planQuery = (store, wheres, vars) => {
	let ids = null; // candidate ids from an equality index
	let lower = null; // { value, inclusive }
	let upper = null;
	const rest = [];
	const narrow = (candidates) => {
		ids = ids === null ? candidates : ids.filter((id) => candidates.includes(id));
	};

	for (const where of wheres) {
		let m = ID_COMPARE.exec(where);
		if (m) {
			const value = literalValue(m, 2, vars);
			if (value !== undefined) {
				const op = m[1];
				if (op === "=") narrow([value]);
				else if (op === ">" || op === ">=") {
					if (!lower || value > lower.value || (value === lower.value && op === ">"))
						lower = { value, inclusive: op === ">=" };
				} else if (!upper || value < upper.value || (value === upper.value && op === "<")) {
					upper = { value, inclusive: op === "<=" };
				}
				continue; // exact: no need for the matcher
			}
		}
		if (ids === null) {
			m = FIELD_EQUALS.exec(where);
			if (m && INDEXED_FIELDS.has(m[1])) {
				const value = literalValue(m, 2, vars);
				const index = value === undefined ? null : store.fieldIndex(m[1]);
				if (index?.usable) narrow([...(index.values.get(value) ?? [])]);
			} else if ((m = FIELD_IN.exec(where)) && INDEXED_FIELDS.has(m[1])) {
				const index = store.fieldIndex(m[1]);
				if (index.usable) {
					const values = [...m[2].matchAll(/"([^"\\]*)"/g)].map((x) => x[1]);
					narrow([...new Set(values.flatMap((v) => [...(index.values.get(v) ?? [])]))]);
				}
			} else if ((m = SKU_LOOKUP.exec(where)) && m[1] === m[2] && store.typeId === "product") {
				narrow([...(store.skuIndex().get(m[1]) ?? [])]);
			}
		}
		rest.push(where); // index candidates are still verified by the matcher
	}

	const inLower = (id) => !lower || (lower.inclusive ? id >= lower.value : id > lower.value);
	const inUpper = (id) => !upper || (upper.inclusive ? id <= upper.value : id < upper.value);
	return {
		ids,
		rest,
		range: lower !== null || upper !== null,
		inRange: (id) => inLower(id) && inUpper(id),
		bounds: (sorted) => [
			lower ? (lower.inclusive ? lowerBound : upperBound)(sorted, lower.value) : 0,
			upper ? (upper.inclusive ? upperBound : lowerBound)(sorted, upper.value) : sorted.length,
		],
	};
};

/** A PagedQueryResponse; `total` only when asked for (withTotal). */
export const pagedResponse = (limit, offset, results, withTotal, total) =>
	withTotal
		? { limit, offset, count: results.length, total, results }
		: { limit, offset, count: results.length, results };

export { canonicalDateTime };
