package backend

import (
	"context"
	"time"
)

// PathElement is one step of an entity key: a kind and an id or a name.
// Neither set (ID 0, Name "") makes the key incomplete: the host allocates
// an id when the entity is stored.
type PathElement struct {
	Kind string `json:"kind"`
	ID   int64  `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// Key identifies an entity: its ancestor path ending in itself.
type Key struct {
	Namespace string        `json:"namespace,omitempty"`
	Path      []PathElement `json:"path"`
}

// ValueType is the type of a property value, as Datastore has them.
type ValueType string

// Value types.
const (
	NullType      ValueType = "null"
	BoolType      ValueType = "boolean"
	IntType       ValueType = "integer"
	DoubleType    ValueType = "double"
	TimestampType ValueType = "timestamp"
	KeyType       ValueType = "key"
	StringType    ValueType = "string"
	BlobType      ValueType = "blob"
	GeoPointType  ValueType = "geoPoint"
	ArrayType     ValueType = "array"
	EntityType    ValueType = "entity"
)

// GeoPoint is a latitude/longitude pair in degrees.
type GeoPoint struct {
	Lat float64 `json:"latitude"`
	Lng float64 `json:"longitude"`
}

// Value is one property value; the field Type names is the one set.
type Value struct {
	Type     ValueType `json:"type"`
	Bool     bool      `json:"bool,omitempty"`
	Int      int64     `json:"int,omitempty"`
	Double   float64   `json:"double,omitempty"`
	Time     time.Time `json:"time,omitzero"`
	Key      *Key      `json:"key,omitempty"`
	String   string    `json:"string,omitempty"`
	Blob     []byte    `json:"blob,omitempty"`
	GeoPoint GeoPoint  `json:"geo,omitzero"`
	Array    []Value   `json:"array,omitempty"`
	Entity   *Entity   `json:"entity,omitempty"`
	// ExcludeFromIndexes keeps the value out of indexes.
	ExcludeFromIndexes bool `json:"exclude_from_indexes,omitempty"`
}

// Entity is a keyed set of properties.
type Entity struct {
	Key        *Key             `json:"key,omitempty"` // nil only for embedded entities
	Properties map[string]Value `json:"properties"`
}

// EntityQuery selects the entities of one kind in one namespace.
type EntityQuery struct {
	Namespace string
	Kind      string
}

// Entities is the capability to store and export entities.
type Entities interface {
	// PutEntities upserts entities of app (the project), at most
	// MaxEntityBatch at once, without a transaction: each entity is
	// stored or not. Incomplete keys get ids allocated. It returns the
	// complete key of each entity, in order. Idempotent for complete keys.
	// Once it has returned without error it keeps no reference to ents or
	// their property maps: a bulk load refills those maps for later calls.
	PutEntities(ctx context.Context, app string, ents []Entity) ([]Key, error)

	// QueryEntities returns up to limit entities the query selects, in key
	// order, starting after cursor ("" for the start), and the cursor to
	// continue from ("" when there are no more).
	QueryEntities(ctx context.Context, app string, q EntityQuery, cursor string, limit int) ([]Entity, string, error)

	// Kinds lists the kinds with entities in the namespace, sorted.
	Kinds(ctx context.Context, app, namespace string) ([]string, error)
}

// EntityBatchPutter is an optional capability of Entities: storing several
// batches in one commit. A bulk load hands it the batches that are ready
// together, so a store whose commits cost more than their entities (the
// local one: an fsync, a transaction, its last pages written again) makes
// fewer of them. Each batch holds at most MaxEntityBatch entities; they are
// stored all or none, durably when it returns without error, and it keeps
// no reference to them afterwards, as PutEntities.
type EntityBatchPutter interface {
	PutEntityBatches(ctx context.Context, app string, batches [][]Entity) ([][]Key, error)
}

// CheckedEntityBatchPutter is an optional capability of an
// EntityBatchPutter: PutCheckedEntityBatches is PutEntityBatches for
// entities the caller has just checked with CheckEntity, each one, and
// not changed since but for giving an incomplete key an id. The store then
// does not check them a second time (a bulk load checks every record, to
// name the bad one, and checking again in the store was a fourteenth of a
// local load's CPU); it still checks the batches' sizes.
type CheckedEntityBatchPutter interface {
	EntityBatchPutter
	PutCheckedEntityBatches(ctx context.Context, app string, batches [][]Entity) ([][]Key, error)
}

// EntityEncoder is an optional capability of a CheckedEntityBatchPutter
// that does a batch's per-entity work (encoding every entity) apart from
// storing it. A bulk load encodes each batch on the goroutine that has
// just made its entities, while their property maps are in that core's
// caches, and reuses the maps at once: encoding them later, on the storing
// goroutine, read tens of megabytes of maps back from memory, and kept
// them all alive until stored. Entities are checked by the caller, as for
// PutCheckedEntityBatches.
type EntityEncoder interface {
	CheckedEntityBatchPutter
	// EncodeEntities encodes at most MaxEntityBatch checked entities. The
	// batch it returns refers to none of their property maps, which the
	// caller may reuse at once; it may share their keys, which the caller
	// must then leave unchanged until the batch is released.
	EncodeEntities(ents []Entity) (EncodedEntities, error)
	// PutEncodedEntityBatches stores batches of this store's
	// EncodeEntities as PutEntityBatches stores entities: all or none,
	// durably when it returns without error. The same batches may be
	// sent again after an error.
	PutEncodedEntityBatches(ctx context.Context, app string, batches []EncodedEntities) ([][]Key, error)
}

// EncodedEntities is a batch an EntityEncoder encoded, for that store only.
type EncodedEntities interface {
	// Len is the number of entities in the batch.
	Len() int
	// Append encodes more checked entities onto the batch, after those it
	// holds, as EncodeEntities encodes them (at most MaxEntityBatch in
	// all), before the batch is stored. A bulk load encodes each batch a
	// few entities at a time, right after converting them, and fills the
	// same few property maps again: filling a whole batch's maps first
	// and encoding them after wrote and read half a megabyte of maps no
	// longer in the core's caches.
	Append(ents []Entity) error
	// Release hands the batch's buffers back to its store, once it is
	// stored: the batch is not used again. A batch whose store may still
	// be reading it (its put failed) is left to the garbage collector.
	Release()
}

// MaxEntityBatch is the most entities one PutEntities call takes, as
// Datastore's limit of 500 mutations per commit.
const MaxEntityBatch = 500

// IDAllocator is an optional capability of Entities: reserving numeric ids
// before storing, as Datastore's allocateIds. A bulk load gives rows
// without a key ids this way, records them, and stores complete keys, so
// that sending a batch again (a retry, a resumed run) overwrites what the
// first send stored instead of adding copies.
type IDAllocator interface {
	// AllocateIDs returns n complete keys like key (whose last path
	// element has neither id nor name), with ids the host never gives to
	// another entity and that no stored entity has.
	AllocateIDs(ctx context.Context, app string, key Key, n int) ([]Key, error)
}
