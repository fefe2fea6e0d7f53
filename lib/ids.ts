const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are UUIDs; anything else matches nothing (and never reaches SQL as a malformed uuid). */
export const isUuid = (value: string): boolean => UUID.test(value);
