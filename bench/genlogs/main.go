// Command genlogs fills a local store with synthetic request logs for the
// request_logs benchmark (bench/request_logs.sh): N logs of version v1 of
// the default service of an app, written in batches as a busy `appcfg
// serve` writes them, one every STEP ending now.
//
// Usage: go run ./bench/genlogs STORE_DIR APP N [BATCH]
package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/local"
	applogs "github.com/appcfg/appcfg/logs"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "genlogs:", err)
		os.Exit(1)
	}
}

var (
	paths  = []string{"/", "/static/css/style.css", "/static/js/app.js", "/favicon.ico", "/guestbook?page=%d", "/admin/stats", "/static/img/photo-%d.jpg"}
	agents = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		"curl/8.5.0",
	}
	statuses = []int{200, 200, 200, 200, 304, 302, 404}
)

func run(ctx context.Context, args []string) error {
	if len(args) < 3 || len(args) > 4 {
		return fmt.Errorf("usage: genlogs STORE_DIR APP N [BATCH]")
	}
	n, err := strconv.Atoi(args[2])
	if err != nil || n < 1 {
		return fmt.Errorf("N must be a positive number, not %q", args[2])
	}
	batch := 1000
	if len(args) == 4 {
		if batch, err = strconv.Atoi(args[3]); err != nil || batch < 1 {
			return fmt.Errorf("BATCH must be a positive number, not %q", args[3])
		}
	}
	store, err := local.Open(ctx, "", local.Config{Root: args[0]}, backend.Env{User: "bench"})
	if err != nil {
		return err
	}
	defer store.Close()
	// As `appcfg serve` records them: with their lines kept ready.
	w := applogs.KeepLines(store)
	rng := rand.New(rand.NewPCG(42, 1))
	step := 20 * time.Millisecond
	t := time.Now().Add(-time.Duration(n) * step)
	logs := make([]backend.RequestLog, 0, batch)
	for i := 0; i < n; i++ {
		t = t.Add(step)
		p := paths[rng.IntN(len(paths))]
		if strings.Contains(p, "%d") {
			p = fmt.Sprintf(p, rng.IntN(500))
		}
		l := backend.RequestLog{
			Time: t, IP: fmt.Sprintf("203.0.%d.%d", rng.IntN(256), rng.IntN(256)), Method: "GET", Resource: p,
			HTTPVersion: "HTTP/1.1", Status: statuses[rng.IntN(len(statuses))], Bytes: int64(rng.IntN(60000)),
			UserAgent: agents[rng.IntN(len(agents))], Host: "guestbook.localhost:8080",
			Latency: time.Duration(rng.IntN(80_000)) * time.Microsecond, Service: "default", Version: "v1",
		}
		if rng.IntN(3) == 0 {
			l.Referrer = "https://www.example.com/search?q=guestbook"
		}
		logs = append(logs, l)
		if len(logs) == batch || i == n-1 {
			if err := w.WriteLogs(ctx, args[1], logs); err != nil {
				return err
			}
			logs = logs[:0]
		}
	}
	return nil
}
