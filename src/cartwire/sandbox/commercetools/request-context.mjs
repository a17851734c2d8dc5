// Per-request side channel between our Fastify hooks and our storage.
//
// The mock's services drop some query parameters before they reach the storage
// (`sort`, `withTotal`) and never pass the `version` of a DELETE. Rather than
// re-implementing the services, a hook puts what the storage needs into an
// AsyncLocalStorage store around the mock's handler, and the storage reads it.
import { AsyncLocalStorage } from "node:async_hooks";

/**
 * Store shape (all optional):
 *   query:         { sort: string[] | undefined, withTotal: boolean, consumed: boolean }
 *   deleteVersion: number            version a DELETE must match (checked in storage.delete)
 *   trusted:       true              bulk load: the storage may keep objects without copying
 *   timestamp:     string            bulk load: createdAt/lastModifiedAt of every stored object
 */
export const requestContext = new AsyncLocalStorage();

/**
 * The query options of the current GET request, handed out once: the first
 * storage query of a request is the one the endpoint answers with; later ones
 * are internal look-ups and keep the mock's defaults.
 */
export const takeQueryOptions = () => {
	const store = requestContext.getStore();
	if (store?.query && !store.query.consumed) {
		store.query.consumed = true;
		return store.query;
	}
	return null;
};

export const isTrusted = () => requestContext.getStore()?.trusted === true;

/** The instant a bulk load stamps on what it stores, if it was given one. */
export const loadTimestamp = () => requestContext.getStore()?.timestamp;
