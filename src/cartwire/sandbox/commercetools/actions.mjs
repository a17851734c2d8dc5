// Update actions the real commercetools API has and the mock lacks (it answers them with
// 400 "Invalid action"). Without them cartwire's writers could not send changes to these
// fields, and a change that is never sent passes every test. Each is added to the mock's
// own update-handler instance of its repository, so its `apply()` dispatches to it, bumps
// the version when the resource changed and checks concurrent modification as for any
// built-in action. Behaviour follows docs.commercetools.com/api/projects/* "Update actions".
import { isDeepStrictEqual } from "node:util";
import { CommercetoolsError } from "./mock-internals.mjs";

const setOrRemove = (resource, field, value) => {
	if (value === undefined || value === null) delete resource[field];
	else resource[field] = value;
};

// -- products ---------------------------------------------------------------------------------

/** The product data an action with `staged` (default true) changes: staged, and current too
 * when `staged` is false. */
const productData = (resource, staged) =>
	staged === false
		? [resource.masterData.staged, resource.masterData.current]
		: [resource.masterData.staged];

const findVariant = (resource, data, variantId, sku) => {
	const variant = [data.masterVariant, ...(data.variants ?? [])].find((v) =>
		variantId !== undefined ? v.id === variantId : sku !== undefined && v.sku === sku,
	);
	if (!variant) {
		throw new CommercetoolsError(
			{
				code: "InvalidOperation",
				message: `Variant with id ${variantId} or sku ${sku} not found on product ${resource.id}`,
			},
			400,
		);
	}
	return variant;
};

const stagedChanges = (resource) => {
	const { current, staged } = resource.masterData;
	resource.masterData.hasStagedChanges = !isDeepStrictEqual(current, staged);
};

const productActions = {
	setProductVariantKey(_context, resource, { variantId, sku, key, staged }) {
		for (const data of productData(resource, staged)) {
			setOrRemove(findVariant(resource, data, variantId, sku), "key", key);
		}
		stagedChanges(resource);
	},
	setSearchKeywords(_context, resource, { searchKeywords, staged }) {
		for (const data of productData(resource, staged)) data.searchKeywords = searchKeywords ?? {};
		stagedChanges(resource);
	},
	setImageLabel(_context, resource, { variantId, sku, imageUrl, label, staged }) {
		for (const data of productData(resource, staged)) {
			const image = (findVariant(resource, data, variantId, sku).images ?? []).find(
				(i) => i.url === imageUrl,
			);
			if (!image) {
				throw new CommercetoolsError(
					{ code: "InvalidOperation", message: `Image with URL ${imageUrl} not found.` },
					400,
				);
			}
			setOrRemove(image, "label", label);
		}
		stagedChanges(resource);
	},
};

// -- the rest ---------------------------------------------------------------------------------

const categoryActions = {
	changeOrderHint(_context, resource, { orderHint }) {
		resource.orderHint = orderHint;
	},
	setExternalId(_context, resource, { externalId }) {
		setOrRemove(resource, "externalId", externalId);
	},
};

const channelActions = {
	setRoles(_context, resource, { roles }) {
		resource.roles = [...new Set(roles ?? [])];
	},
	addRoles(_context, resource, { roles }) {
		resource.roles = [...new Set([...(resource.roles ?? []), ...(roles ?? [])])];
	},
	removeRoles(_context, resource, { roles }) {
		resource.roles = (resource.roles ?? []).filter((role) => !(roles ?? []).includes(role));
	},
};

const inventoryActions = {
	setKey(_context, resource, { key }) {
		setOrRemove(resource, "key", key);
	},
};

const MISSING = {
	product: productActions,
	category: categoryActions,
	channel: channelActions,
	"inventory-entry": inventoryActions,
};

/** Adds the actions above to the mock's handlers; fails at start-up if one already exists
 * (a newer mock implements it: ours should then go). */
export const installMissingActions = (repositories) => {
	for (const [type, actions] of Object.entries(MISSING)) {
		const handler = repositories[type]?.actions;
		if (!handler) throw new Error(`cartwire-ct-sandbox: the mock has no ${type} repository`);
		for (const [name, action] of Object.entries(actions)) {
			if (typeof handler[name] === "function") {
				throw new Error(`cartwire-ct-sandbox: the mock now implements ${type} ${name}; drop ours`);
			}
			handler[name] = action;
		}
	}
};
