package backend

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Datastore's limits on what an entity may be. Every backend enforces them,
// the local one too, so that what loads locally also loads into App Engine;
// callers (the bulk loader) check each entity with CheckEntity before sending
// it, to name the offending record instead of failing a whole batch.
const (
	// MaxEntityBytes is the largest entity, by EntitySize (1 MiB - 4).
	MaxEntityBytes = 1_048_572
	// MaxIndexedBytes bounds an indexed string or blob.
	MaxIndexedBytes = 1500
	// MaxNameBytes bounds a kind, a key name and a property name.
	MaxNameBytes = 1500
	// MaxPathLen bounds the elements of a key path.
	MaxPathLen = 100
	// MaxNesting bounds embedded entities within each other.
	MaxNesting = 20
	// MaxNamespaceLen bounds a namespace (see ValidNamespace).
	MaxNamespaceLen = 100
)

// ErrInvalidEntity marks an entity, key or namespace Datastore refuses.
// Such a refusal is permanent: sending the same entity again fails the same
// way, so callers report it at once and never retry it.
var ErrInvalidEntity = errors.New("refused by Datastore's limits")

// invalid wraps a limit's message so errors.Is(err, ErrInvalidEntity).
type invalid struct{ msg string }

func (e *invalid) Error() string { return e.msg }
func (e *invalid) Unwrap() error { return ErrInvalidEntity }

func invalidf(format string, args ...any) error {
	return &invalid{msg: fmt.Sprintf(format, args...)}
}

// ValidNamespace checks Datastore's namespace syntax: up to 100 letters,
// digits, '.', '-' and '_' ("" is the default namespace).
func ValidNamespace(ns string) error {
	if len(ns) > MaxNamespaceLen {
		return invalidf("namespace %q is %d characters; a namespace has at most %d letters, digits, '.', '-' or '_'", ns, len(ns), MaxNamespaceLen)
	}
	for i := 0; i < len(ns); i++ {
		c := ns[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '.' || c == '-' || c == '_') {
			return invalidf("namespace %q: a namespace has at most %d letters, digits, '.', '-' or '_'", ns, MaxNamespaceLen)
		}
	}
	return nil
}

// Reserved reports whether name has Datastore's reserved form __x__ (kinds
// like __kind__, key names and property names alike).
func Reserved(name string) bool {
	return len(name) >= 4 && strings.HasPrefix(name, "__") && strings.HasSuffix(name, "__")
}

func checkName(what, s string) error {
	switch {
	case s == "":
		return invalidf("a %s is empty", what)
	case len(s) > MaxNameBytes:
		return invalidf("a %s is %d bytes; Datastore allows at most %d", what, len(s), MaxNameBytes)
	case !utf8.ValidString(s):
		return invalidf("%s %q is not valid UTF-8", what, s)
	case Reserved(s):
		return invalidf("%s %q is reserved by Datastore (names like __x__)", what, s)
	}
	return nil
}

// CheckKey checks a key against Datastore's rules: its namespace, 1 to 100
// path elements, each with a valid kind and either a positive id or a valid
// name, never both. Only the last element may be incomplete, and only when
// incompleteOK (an entity to store, which gets an id allocated).
func CheckKey(k *Key, incompleteOK bool) error {
	if k == nil {
		return invalidf("the key is missing: every stored entity needs a key")
	}
	if len(k.Path) == 0 || len(k.Path) > MaxPathLen {
		return invalidf("a key path has 1 to %d elements, this one %d", MaxPathLen, len(k.Path))
	}
	if err := ValidNamespace(k.Namespace); err != nil {
		return err
	}
	for i, pe := range k.Path {
		if err := checkName("kind", pe.Kind); err != nil {
			return err
		}
		switch {
		case pe.ID != 0 && pe.Name != "":
			return invalidf("path element %s has both an id (%d) and a name (%q); give one", pe.Kind, pe.ID, pe.Name)
		case pe.ID < 0:
			return invalidf("path element %s has id %d; ids are positive", pe.Kind, pe.ID)
		case pe.ID > 0:
		case pe.Name != "":
			if err := checkName("key name", pe.Name); err != nil {
				return err
			}
		case i < len(k.Path)-1:
			return invalidf("ancestor %s has neither an id nor a name; only the last element of a key may be incomplete", pe.Kind)
		case !incompleteOK:
			return invalidf("key %s is incomplete (no id or name) where a complete key is needed", KeyString(*k))
		}
	}
	return nil
}

// CheckEntity checks an entity to store against every Datastore limit: its
// key (which may be incomplete), property names, value types and their
// limits (indexed strings and blobs, UTF-8 strings, timestamps, geo points,
// arrays within arrays, nesting), and its size (MaxEntityBytes).
func CheckEntity(e *Entity) error {
	if e.Key == nil {
		return invalidf("the entity has no key")
	}
	if err := CheckKey(e.Key, true); err != nil {
		return err
	}
	// One pass over the properties checks them and sums their sizes: a
	// bulk load checks every entity, and walking the map twice showed.
	n, err := checkProps(e.Properties, 0)
	if err != nil {
		return err
	}
	if n += 32 + KeySize(e.Key); n > MaxEntityBytes {
		return invalidf("the entity is %d bytes; Datastore's limit is %d bytes (keep large data out of the datastore, or split it)", n, MaxEntityBytes)
	}
	return nil
}

// checkProps checks properties and returns the sum of their sizes (see
// EntitySize).
func checkProps(props map[string]Value, depth int) (int, error) {
	n := 0
	for name, v := range props {
		if err := checkName("property name", name); err != nil {
			return 0, err
		}
		if err := checkValue(v, false, depth); err != nil {
			return 0, fmt.Errorf("property %q: %w", name, err)
		}
		n += len(name) + 1 + valueSize(v)
	}
	return n, nil
}

func checkValue(v Value, inArray bool, depth int) error {
	switch v.Type {
	case NullType, BoolType, IntType, DoubleType:
	case TimestampType:
		if y := v.Time.UTC().Year(); y < 1 || y > 9999 {
			return invalidf("timestamp %s is outside years 0001 to 9999", v.Time.UTC().Format(time.RFC3339))
		}
	case KeyType:
		return CheckKey(v.Key, false)
	case StringType:
		if !utf8.ValidString(v.String) {
			return invalidf("the string is not valid UTF-8; store bytes as a blob")
		}
		if !v.ExcludeFromIndexes && len(v.String) > MaxIndexedBytes {
			return invalidf("an indexed string is at most %d bytes, this one %d; exclude it from indexes (db.Text)", MaxIndexedBytes, len(v.String))
		}
	case BlobType:
		if !v.ExcludeFromIndexes && len(v.Blob) > MaxIndexedBytes {
			return invalidf("an indexed blob is at most %d bytes, this one %d; exclude it from indexes (db.Blob)", MaxIndexedBytes, len(v.Blob))
		}
	case GeoPointType:
		g := v.GeoPoint
		if math.IsNaN(g.Lat) || math.IsNaN(g.Lng) || g.Lat < -90 || g.Lat > 90 || g.Lng < -180 || g.Lng > 180 {
			return invalidf("geo point (%v, %v) is outside latitude ±90, longitude ±180", g.Lat, g.Lng)
		}
	case ArrayType:
		if inArray {
			return invalidf("arrays cannot contain arrays")
		}
		for i, el := range v.Array {
			if v.ExcludeFromIndexes {
				el.ExcludeFromIndexes = true
			}
			if err := checkValue(el, true, depth); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
	case EntityType:
		if v.Entity == nil {
			return invalidf("an entity value has no entity")
		}
		if depth+1 > MaxNesting {
			return invalidf("embedded entities nest deeper than %d", MaxNesting)
		}
		if v.Entity.Key != nil {
			if err := CheckKey(v.Entity.Key, true); err != nil {
				return fmt.Errorf("embedded entity: %w", err)
			}
		}
		if _, err := checkProps(v.Entity.Properties, depth+1); err != nil {
			return fmt.Errorf("embedded entity: %w", err)
		}
	default:
		return invalidf("unknown value type %q", v.Type)
	}
	return nil
}

// EntitySize is an entity's size as Datastore counts it against
// MaxEntityBytes ("Storage size calculations"): its key, each property's
// name and value, and 32 bytes.
func EntitySize(e *Entity) int {
	n := 32
	if e.Key != nil {
		n += KeySize(e.Key)
	}
	for name, v := range e.Properties {
		n += len(name) + 1 + valueSize(v)
	}
	return n
}

// KeySize is a key's storage size: its namespace, each path element's kind
// and id (8 bytes) or name, and 16 bytes.
func KeySize(k *Key) int {
	n := 16
	if k.Namespace != "" {
		n += len(k.Namespace) + 1
	}
	for _, pe := range k.Path {
		n += len(pe.Kind) + 1
		if pe.Name != "" {
			n += len(pe.Name) + 1
		} else {
			n += 8
		}
	}
	return n
}

func valueSize(v Value) int {
	switch v.Type {
	case BoolType:
		return 1
	case IntType, DoubleType, TimestampType:
		return 8
	case GeoPointType:
		return 16
	case StringType:
		return len(v.String) + 1
	case BlobType:
		return len(v.Blob)
	case KeyType:
		if v.Key == nil {
			return 1
		}
		return KeySize(v.Key)
	case ArrayType:
		n := 0
		for _, el := range v.Array {
			n += valueSize(el)
		}
		return n
	case EntityType:
		if v.Entity == nil {
			return 1
		}
		return EntitySize(v.Entity)
	}
	return 1 // null
}

// KeyString formats a key for messages: ns:Parent/"name"/Kind/12, with
// "(new)" for an incomplete last element.
func KeyString(k Key) string {
	var b strings.Builder
	if k.Namespace != "" {
		b.WriteString(k.Namespace)
		b.WriteString(":")
	}
	for i, pe := range k.Path {
		if i > 0 {
			b.WriteString("/")
		}
		b.WriteString(pe.Kind)
		b.WriteString("/")
		switch {
		case pe.ID != 0:
			b.WriteString(strconv.FormatInt(pe.ID, 10))
		case pe.Name != "":
			b.WriteString(strconv.Quote(pe.Name))
		default:
			b.WriteString("(new)")
		}
	}
	return b.String()
}

// MaxVersionsPerApp is App Engine's cap on an application's versions, all
// services together ("Your app may not have more than 210 versions").
// Backends report the cap they enforce in Properties.MaxVersions.
const MaxVersionsPerApp = 210
