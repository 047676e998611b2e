package local

// schemaLogs will hold request logs; an empty table keeps the migration
// numbering stable until then.
const schemaLogs = `CREATE TABLE IF NOT EXISTS reserved_logs (id INTEGER PRIMARY KEY);`
