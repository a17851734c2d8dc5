// Pieces of @labdigital/commercetools-mock that its package.json does not export.
//
// The mock's public entry (dist/index.mjs) imports its predicate parser and its
// error class from a shared chunk (dist/abstract-<hash>.mjs) under one-letter
// aliases. We read that import line to find the chunk's file name and the
// aliases, then import the chunk by URL. Because it is the very same module
// instance the mock uses, `instanceof CommercetoolsError` holds in the mock's
// error handler and our predicates behave exactly like the mock's own.
//
// Nothing here patches node_modules; if an upgrade renames things we fail loudly
// at start-up instead of misbehaving at run time.
import { readFileSync } from "node:fs";

const entryUrl = import.meta.resolve("@labdigital/commercetools-mock");
const entrySource = readFileSync(new URL(entryUrl), "utf8");

// e.g. import { a as Lexer, ..., r as parseQueryExpression, ... } from "./abstract-DpzFmkNN.mjs";
const importLine = entrySource.match(
	/import\s*\{([^}]*)\}\s*from\s*"(\.\/abstract-[^"]+\.mjs)"/,
);
if (!importLine) {
	throw new Error(
		"cartwire-ct-sandbox: cannot find the shared chunk import in @labdigital/commercetools-mock/dist/index.mjs",
	);
}

const aliases = {}; // real name -> alias exported by the chunk
for (const part of importLine[1].split(",")) {
	const m = part.trim().match(/^(\w+)\s+as\s+(\w+)$/);
	if (m) aliases[m[2]] = m[1];
	else if (/^\w+$/.test(part.trim())) aliases[part.trim()] = part.trim();
}

const chunk = await import(new URL(importLine[2], entryUrl).href);

const pick = (name) => {
	const value = chunk[aliases[name]];
	if (typeof value !== "function") {
		throw new Error(
			`cartwire-ct-sandbox: @labdigital/commercetools-mock no longer exposes ${name} in its shared chunk`,
		);
	}
	return value;
};

/** The mock's error class; its Fastify error handler renders it as a commercetools error body. */
export const CommercetoolsError = pick("CommercetoolsError");

/** The mock's query-predicate compiler: (where: string | string[]) => (obj, vars) => boolean. */
export const parseQueryExpression = pick("parseQueryExpression");
