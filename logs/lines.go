package logs

import (
	"context"

	"github.com/appcfg/appcfg/backend"
)

// storedLinesVersion names the rendering of StoredLines. A store keeps it
// with the lines and copies them only to a download asking for the same
// version, so whenever the default line changes (TestStoredLinesVersion
// notices), this changes too: the lines stored before are then formatted
// again from their records instead of being copied as they were.
const storedLinesVersion = "combined-pacific/1"

// StoredLines is the line format a store keeping ready lines
// (backend.LogLineWriter) records and a plain download copies: the default
// request line (no host, extras or app logs, times in US/Pacific), rendered
// by the same formatter as every other line of request_logs.
func StoredLines() backend.LineFormat {
	return backend.LineFormat{Version: storedLinesVersion, New: func() func([]byte, *backend.RequestLog) []byte {
		fm := newFormatter(defaultFormat())
		return func(b []byte, l *backend.RequestLog) []byte {
			b, _ = fm.appendLog(b, l)
			return b
		}
	}}
}

// KeepLines returns w made to keep, where the store can
// (backend.LogLineWriter), each log's StoredLines line beside it, so a
// plain request_logs download copies lines instead of formatting logs.
// Other stores get w unchanged. A store that spools
// (backend.LogSpooler) keeps the lines of what it folds too.
func KeepLines(w backend.LogWriter) backend.LogWriter {
	lw, ok := w.(backend.LogLineWriter)
	if !ok {
		return w
	}
	if sp, ok := w.(backend.LogSpooler); ok {
		return spoolingLineKeeper{lineKeeper{lw}, sp}
	}
	return lineKeeper{lw}
}

type lineKeeper struct{ w backend.LogLineWriter }

type spoolingLineKeeper struct {
	lineKeeper
	sp backend.LogSpooler
}

func (k spoolingLineKeeper) OpenLogSpool(ctx context.Context, app string, _ backend.LineFormat) (backend.LogSpool, error) {
	return k.sp.OpenLogSpool(ctx, app, StoredLines())
}

func (k lineKeeper) WriteLogs(ctx context.Context, app string, logs []backend.RequestLog) error {
	return k.w.WriteLogsWithLines(ctx, app, logs, StoredLines())
}
