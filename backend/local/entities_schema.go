package local

// schemaEntities will hold entities; an empty table keeps the migration
// numbering stable until then.
const schemaEntities = `CREATE TABLE IF NOT EXISTS reserved_entities (id INTEGER PRIMARY KEY);`
