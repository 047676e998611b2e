package logs

import (
	"github.com/appcfg/appcfg/backend"
)

// blockFormatter formats the blocks of a backend.LogBlockReader. Each
// distinct value of a block is escaped once; most need no escape and are
// used as they are. A request line is then a run of copies and three
// numbers, laid out by formatter.appendLine as appendLog's.
type blockFormatter struct {
	fm    *formatter
	vhost string
	// text[f][i] is Dict[f][i] as the line shows it: escaped, "-" for an
	// empty value where Apache writes one.
	text   [backend.NumLogFields][]string
	hostOK []bool // per host value: whether it matches vhost
	extra  []byte // " app=… module=… version=… request_id=" with IncludeAll
}

func newBlockFormatter(fm *formatter, vhost string) *blockFormatter {
	return &blockFormatter{fm: fm, vhost: vhost}
}

// prepare escapes the values of bl's dictionaries.
func (bf *blockFormatter) prepare(bl *backend.LogBlock) {
	f := bf.fm.f
	for field, values := range bl.Dict {
		text := bf.text[field][:0]
		if backend.LogField(field) == backend.LogHost && !f.showsHost() {
			bf.text[field] = text
			continue
		}
		for _, v := range values {
			text = append(text, fieldText(backend.LogField(field), v))
		}
		bf.text[field] = text
	}
	bf.hostOK = bf.hostOK[:0]
	if bf.vhost != "" {
		for _, h := range bl.Dict[backend.LogHost] {
			bf.hostOK = append(bf.hostOK, matchesVHost(h, bf.vhost))
		}
	}
	bf.extra = bf.extra[:0]
	if f.IncludeAll {
		bf.extra = appendExtras(bf.extra, bl.App, bl.Service, bl.Version)
	}
}

// done drops the block's strings, so they are not kept past it.
func (bf *blockFormatter) done() {
	for f := range bf.text {
		clear(bf.text[f])
	}
}

// keep reports whether record r passes the --vhost filter.
func (bf *blockFormatter) keep(r *backend.LogRecord) bool {
	return bf.vhost == "" || bf.hostOK[r.Str[backend.LogHost]]
}

// appendRecord appends the lines of record i of bl (prepared), and returns
// how many lines it wrote.
func (bf *blockFormatter) appendRecord(b []byte, bl *backend.LogBlock, i int) ([]byte, int) {
	r := &bl.Records[i]
	text := &bf.text
	t := lineFields{
		backend.LogIP:          text[backend.LogIP][r.Str[backend.LogIP]],
		backend.LogMethod:      text[backend.LogMethod][r.Str[backend.LogMethod]],
		backend.LogResource:    text[backend.LogResource][r.Str[backend.LogResource]],
		backend.LogHTTPVersion: text[backend.LogHTTPVersion][r.Str[backend.LogHTTPVersion]],
		backend.LogReferrer:    text[backend.LogReferrer][r.Str[backend.LogReferrer]],
		backend.LogUserAgent:   text[backend.LogUserAgent][r.Str[backend.LogUserAgent]],
	}
	id := ""
	if bf.fm.f.showsHost() {
		t[backend.LogHost] = text[backend.LogHost][r.Str[backend.LogHost]]
	}
	if bf.fm.f.IncludeAll {
		id = bl.ID(i)
	}
	b = bf.fm.appendLine(b, &t, bf.fm.st.nanos(r.Time), r.Status, r.Bytes, r.Latency, bf.extra, id)
	if len(r.AppLogs) == 0 {
		return b, 1
	}
	return bf.fm.appendAppLogs(b, r.AppLogs)
}
