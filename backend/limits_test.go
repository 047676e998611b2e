package backend

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckEntityLimits(t *testing.T) {
	key := func(ns string, path ...PathElement) *Key { return &Key{Namespace: ns, Path: path} }
	named := key("", PathElement{Kind: "A", Name: "a"})
	str := func(s string, unindexed bool) map[string]Value {
		return map[string]Value{"p": {Type: StringType, String: s, ExcludeFromIndexes: unindexed}}
	}
	// The largest unindexed string that fits: 32 + key (16 + 2 + 2) +
	// name (2) + the string and its 1.
	fits := MaxEntityBytes - (32 + 16 + 2 + 2 + 2 + 1)
	tests := []struct {
		name string
		e    Entity
		want string // "" for valid
	}{
		{"at the size limit", Entity{Key: named, Properties: str(strings.Repeat("x", fits), true)}, ""},
		{"one byte over", Entity{Key: named, Properties: str(strings.Repeat("x", fits+1), true)}, "1048573 bytes; Datastore's limit is 1048572"},
		{"indexed 1500", Entity{Key: named, Properties: str(strings.Repeat("x", 1500), false)}, ""},
		{"indexed 1501", Entity{Key: named, Properties: str(strings.Repeat("x", 1501), false)}, "indexed string is at most 1500"},
		{"reserved kind", Entity{Key: key("", PathElement{Kind: "__kind__", Name: "a"})}, `kind "__kind__" is reserved`},
		{"reserved key name", Entity{Key: key("", PathElement{Kind: "A", Name: "__x__"})}, "reserved"},
		{"underscores only", Entity{Key: key("", PathElement{Kind: "__", Name: "a"})}, ""},
		{"namespace charset", Entity{Key: key("a/b", PathElement{Kind: "A", Name: "a"})}, "namespace"},
		{"namespace 100", Entity{Key: key(strings.Repeat("n", 100), PathElement{Kind: "A", Name: "a"})}, ""},
		{"namespace 101", Entity{Key: key(strings.Repeat("n", 101), PathElement{Kind: "A", Name: "a"})}, "namespace"},
		{"key name not UTF-8", Entity{Key: key("", PathElement{Kind: "A", Name: "caf\xe9"})}, "not valid UTF-8"},
		{"negative id", Entity{Key: key("", PathElement{Kind: "A", ID: -1})}, "ids are positive"},
		{"id and name", Entity{Key: key("", PathElement{Kind: "A", ID: 1, Name: "a"})}, "both an id"},
		{"incomplete", Entity{Key: key("", PathElement{Kind: "A"})}, ""},
		{"incomplete ancestor", Entity{Key: key("", PathElement{Kind: "P"}, PathElement{Kind: "A", ID: 1})}, "ancestor P"},
		{"incomplete key value", Entity{Key: named, Properties: map[string]Value{"k": {Type: KeyType, Key: key("", PathElement{Kind: "B"})}}}, "incomplete"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckEntity(&tt.e)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("CheckEntity: %v, want valid", err)
			case tt.want == "":
			case err == nil || !strings.Contains(err.Error(), tt.want):
				t.Fatalf("CheckEntity: %v, want an error containing %q", err, tt.want)
			case !errors.Is(err, ErrInvalidEntity):
				t.Fatalf("CheckEntity: %v does not wrap ErrInvalidEntity: it would be retried", err)
			}
		})
	}
}

// The size follows Datastore's documented rules, on its example Task: key
// 5+8+16, properties "type" 5+9, "done" 5+1, "priority" 9+8, "description"
// 12+22, and 32.
func TestEntitySizeMatchesDatastore(t *testing.T) {
	e := Entity{Key: &Key{Path: []PathElement{{Kind: "Task", ID: 5730082031140864}}}, Properties: map[string]Value{
		"type":        {Type: StringType, String: "Personal"},
		"done":        {Type: BoolType},
		"priority":    {Type: IntType, Int: 4},
		"description": {Type: StringType, String: "Learn Cloud Datastore"},
	}}
	if n := EntitySize(&e); n != 132 {
		t.Fatalf("EntitySize = %d, want 132", n)
	}
}
