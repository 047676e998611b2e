package local

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func BenchmarkZZPrepare(b *testing.B) {
	root := os.Getenv("PROBE_STORE")
	if root == "" {
		b.Skip()
	}
	ctx := context.Background()
	db, _ := sql.Open("sqlite", dsn(filepath.Join(root, dbName), false))
	defer db.Close()
	conn, _ := db.Conn(ctx)
	defer conn.Close()
	base := chunkListingSQL(true, true)
	variants := map[string]string{
		"cur":     base,
		"indexed": strings.Replace(base, "FROM log_chunks\n", "FROM log_chunks INDEXED BY log_chunks_by_version\n", 1),
		"noRow":   strings.Replace(base, "(min_time, id) > (?, ?)", "(min_time > ? OR (min_time = ?3 AND id > ?))", 1),
		"both":    strings.Replace(strings.Replace(base, "FROM log_chunks\n", "FROM log_chunks INDEXED BY log_chunks_by_version\n", 1), "(min_time, id) > (?, ?)", "(min_time > ? OR (min_time = ?3 AND id > ?))", 1),
		"trivial": "SELECT id FROM apps WHERE name = ?",
	}
	for name, q := range variants {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				st, err := conn.PrepareContext(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				st.Close()
			}
		})
	}
}
