package bulkload

import (
	"errors"
	"reflect"
	"testing"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/progress"
)

// TestSendRecyclesEachStoredMapOnce: a stored group hands each batch's
// property maps back for later batches once, and a batch whose records
// all failed (no entities, so nothing encoded) hands back nothing: an
// empty set of maps would take one of propMaps' slots and leave the
// converter that takes it to make its maps again. With a store that
// encodes, encode has handed the maps back already, to the converting
// goroutine's own spares (dac52af: send recycled by whether the batch was
// encoded, so the failed batch's empty set went in); with one that does
// not, send hands them back after the put.
func TestSendRecyclesEachStoredMapOnce(t *testing.T) {
	for _, encodes := range []bool{true, false} {
		o := uploadOpts(t, t.TempDir(), noKeyConfig)
		tr, err := o.Config.Transformer("Row")
		if err != nil {
			t.Fatal(err)
		}
		u := &uploader{o: o, ents: batchStore{newMemStore()}, tr: tr, thr: newThrottle(o), rep: progress.Or(nil),
			propMaps: make(chan []map[string]backend.Value, inFlightBatches(o.NumThreads))}
		if encodes {
			s := &encodingStore{batchStore: batchStore{newMemStore()}, maps: map[uintptr]bool{}}
			u.ents, u.enc = s, s
		}
		props := map[string]backend.Value{"n": {Type: backend.IntType, Int: 1}}
		stored := converted{id: 1, first: 1, last: 1, bytes: 2,
			ents: []backend.Entity{{Key: &backend.Key{Path: []backend.PathElement{{Kind: "Row", ID: 1}}}, Properties: props}}}
		var hot hotMaps
		if encodes {
			done := 0
			if err := u.encode(&stored, &done, &hot); err != nil {
				t.Fatal(err)
			}
		}
		failed := converted{id: 2, first: 2, last: 2, fails: []RowError{{Record: 2, Err: errors.New("not an int")}}}
		if err := u.send(t.Context(), []converted{failed, stored}); err != nil {
			t.Fatal(err)
		}
		var sets [][]map[string]backend.Value
		for len(u.propMaps) > 0 {
			sets = append(sets, <-u.propMaps)
		}
		if encodes {
			// encode handed the map to the converter's own spares.
			sets = append(sets, hot)
		}
		if len(sets) != 1 || len(sets[0]) != 1 || reflect.ValueOf(sets[0][0]).Pointer() != reflect.ValueOf(props).Pointer() {
			t.Errorf("encoding store %v: the maps handed back are %d sets %v, want the stored batch's one map, once", encodes, len(sets), sets)
		}
	}
}
