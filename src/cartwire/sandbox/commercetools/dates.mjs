// Date-time values compared as instants (gap 9).
//
// The mock compares predicate values as plain strings, so
// "2026-01-02T03:04:05.181Z" and "2026-01-02T03:04:05.181000+00:00" differ.
// Stored timestamps are always written as `Date#toISOString()` (UTC, exactly
// three fraction digits, "Z"), for which text order equals time order. So we
// rewrite every date-time literal and `var.*` value in a query into that same
// canonical form before the mock's matcher sees it, and normalise top-level
// date-time fields when objects are stored.
//
// Limitation: sub-millisecond digits are truncated (commercetools stores
// milliseconds, so this only matters for a literal like ".1815").

// 2026-01-02T03:04:05[.fraction](Z|+hh:mm|+hhmm|+hh). A space is accepted in
// place of "+" because an unencoded "+" in a query string decodes to a space.
const DATE_TIME =
	/^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*([Zz]|[+\- ]\d{2}(?::?\d{2})?)$/;

/** Canonical `toISOString()` form of a date-time string, or null if it is not one. */
export const canonicalDateTime = (text) => {
	if (typeof text !== "string" || text.length < 16 || text.length > 40) return null;
	const m = DATE_TIME.exec(text);
	if (!m) return null;
	const [, y, mo, d, h, mi, s = "0", frac = "", zone] = m;
	const month = Number(mo);
	const day = Number(d);
	const hour = Number(h);
	const minute = Number(mi);
	const second = Number(s);
	if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
		return null;
	}
	const millis = Number((frac + "000").slice(0, 3));
	let offsetMinutes = 0;
	if (zone !== "Z" && zone !== "z") {
		const sign = zone[0] === "-" ? -1 : 1;
		const digits = zone.slice(1).replace(":", "");
		offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || "0"));
	}
	const utc =
		Date.UTC(Number(y), month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
	if (!Number.isFinite(utc)) return null;
	return new Date(utc).toISOString();
};

/** A `var.*` value (string or array of strings) with date-times made canonical. */
export const normalizeVarValue = (value) => {
	if (Array.isArray(value)) return value.map(normalizeVarValue);
	return canonicalDateTime(value) ?? value;
};

// A quoted literal in a predicate, double or single quoted, without escapes.
const QUOTED = /"([^"\\]*)"|'([^'\\]*)'/g;

/** A predicate with every quoted date-time literal made canonical. */
export const normalizePredicate = (predicate) =>
	predicate.replace(QUOTED, (whole, dq, sq) => {
		const canonical = canonicalDateTime(dq ?? sq);
		return canonical ? `"${canonical}"` : whole;
	});

/**
 * Normalise the top-level date-time fields of an object about to be stored
 * (createdAt, lastModifiedAt, completedAt, ...), in place. Cheap: top level
 * only, with a quick shape check before the regex.
 */
export const normalizeStoredDates = (obj) => {
	for (const key in obj) {
		const value = obj[key];
		if (typeof value === "string" && value.length >= 16 && value.charCodeAt(4) === 45 /* - */) {
			const canonical = canonicalDateTime(value);
			if (canonical && canonical !== value) obj[key] = canonical;
		}
	}
	return obj;
};
