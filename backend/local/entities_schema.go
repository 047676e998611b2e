package local

// schemaEntities stores entities for the Entities capability.
//
// entities.key is an order-preserving encoding of the key's path (see
// keyOrder), so "ORDER BY key" is Datastore's key order and a query cursor is
// just the last key returned. data is the whole entity in a lossless binary
// form (see entityCodec). entity_ids holds, per app, the next id to allocate
// for an incomplete key; storing a complete key with a larger id moves it
// past that id, as the legacy bulkloader's AllocateIds reservation did.
const schemaEntities = `
CREATE TABLE entities (
	app_id    INTEGER NOT NULL REFERENCES apps(id),
	namespace TEXT    NOT NULL,
	kind      TEXT    NOT NULL,
	key       BLOB    NOT NULL,
	data      BLOB    NOT NULL,
	PRIMARY KEY (app_id, namespace, kind, key)
) WITHOUT ROWID;
CREATE TABLE entity_ids (
	app_id INTEGER PRIMARY KEY REFERENCES apps(id),
	next   INTEGER NOT NULL
);
`
