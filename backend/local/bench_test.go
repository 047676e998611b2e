package local

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/appcfg/appcfg/backend"
)

// blobOf returns distinct content of size bytes for i.
func blobOf(i, size int) []byte {
	data := make([]byte, size)
	for j := 0; j+8 <= size; j += 8 {
		binary.LittleEndian.PutUint64(data[j:], uint64(i)*0x9E3779B97F4A7C15+uint64(j))
	}
	return data
}

// putSmall stores the 64-byte blobs blobOf(i, 64) for each i in is, from
// Properties().Connections goroutines as update does, and returns their
// digests in order.
func putSmall(b *testing.B, st *Backend, is []int) []string {
	b.Helper()
	ds := make([]string, len(is))
	work := make(chan int)
	var wg sync.WaitGroup
	for range st.Properties().Connections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range work {
				data := blobOf(is[k], 64)
				ds[k] = sha1hex(data)
				if err := st.PutBlob(b.Context(), "bench", ds[k], int64(len(data)), bytes.NewReader(data)); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for k := range is {
		work <- k
	}
	close(work)
	wg.Wait()
	if err := st.SyncBlobs(b.Context()); err != nil {
		b.Error(err)
	}
	if b.Failed() {
		b.FailNow()
	}
	return ds
}

// BenchmarkPutBlob stores distinct 16 KiB blobs one after another and
// confirms them every 64 MiB, as a deploy does: the cost of a first deploy
// per file (hash, write, a share of the syncs and of the commit).
func BenchmarkPutBlob(b *testing.B) {
	st := openAt(b, b.TempDir())
	const size = 16 << 10
	b.SetBytes(size)
	i := 0
	for b.Loop() {
		data := blobOf(i, size)
		i++
		if err := st.PutBlob(b.Context(), "bench", sha1hex(data), size, bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
		if i%(64<<20/size) == 0 {
			if err := st.SyncBlobs(b.Context()); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := st.SyncBlobs(b.Context()); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPutBlobParallel stores distinct blobs from Properties().Connections
// goroutines, as update's upload pool does.
func BenchmarkPutBlobParallel(b *testing.B) {
	st := openAt(b, b.TempDir())
	const size = 16 << 10
	b.SetBytes(size)
	b.SetParallelism(max(1, st.Properties().Connections/runtime.GOMAXPROCS(0)))
	var next = make(chan int, 1)
	next <- 0
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := <-next
			next <- i + 1
			data := blobOf(i, size)
			if err := st.PutBlob(b.Context(), "bench", sha1hex(data), size, bytes.NewReader(data)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	if err := st.SyncBlobs(b.Context()); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkMissingBlobs10k asks about 10,000 digests of which half are held:
// the question a redeploy of a 10,000-file app asks once.
func BenchmarkMissingBlobs10k(b *testing.B) {
	st := openAt(b, b.TempDir())
	const n = 10000
	digests := make([]string, n)
	var even []int
	for i := range digests {
		digests[i] = sha1hex(blobOf(i, 64))
		if i%2 == 0 {
			even = append(even, i)
		}
	}
	putSmall(b, st, even)
	for b.Loop() {
		m, err := st.MissingBlobs(b.Context(), "bench", digests)
		if err != nil {
			b.Fatal(err)
		}
		if len(m) != n/2 {
			b.Fatalf("MissingBlobs found %d missing, want %d", len(m), n/2)
		}
	}
}

// BenchmarkCreateVersion5k redeploys an unchanged 5,000-file version: the
// host's share of an unchanged `appcfg update`.
func BenchmarkCreateVersion5k(b *testing.B) {
	st := openAt(b, b.TempDir())
	const n = 5000
	spec := backend.VersionSpec{App: "bench", Service: "default", Version: "v1", Runtime: "python39"}
	is := make([]int, n)
	for i := range is {
		is[i] = i
	}
	for i, d := range putSmall(b, st, is) {
		spec.Files = append(spec.Files, backend.FileRef{Path: fmt.Sprintf("static/%04d.txt", i), SHA1: d, Size: 64})
	}
	for b.Loop() {
		if _, err := st.CreateVersion(b.Context(), spec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLostBlobs5k checks the files of 5,000 held blobs, as an
// unchanged redeploy of a 5,000-file app does once (on Prefetch's
// goroutine): a stat each.
func BenchmarkLostBlobs5k(b *testing.B) {
	st := openAt(b, b.TempDir())
	held := blobFiles(b, st, 5000)
	for b.Loop() {
		if lost := st.lostBlobs(b.Context(), held, nil, 1); lost != nil {
			b.Fatalf("lost %d blobs", len(lost))
		}
	}
}
